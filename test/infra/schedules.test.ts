/**
 * Scheduled jobs and operator notifications as deployed (deploy-time fixes): every
 * scheduled function's asynchronous invocations are never retried (a failed run is superseded by the
 * next one, not replayed for hours), the minute's rounds are put on the dot while the other jobs are spread over
 * a flexible window, and EventBridge publishes to the operators' topic through a role only the bus's
 * rules may assume, so neither the topic's nor its key's policy opens to the EventBridge service.
 */
import type { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { flexibleWindowMinutes, SCHEDULED_EVENT_AGE_SECONDS } from '../../lib/infra/probe-schedule.ts';
import { logicalId, templateOf, useRegionalTemplates } from './build.ts';

const app = useRegionalTemplates();

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, checked by shape.
type Resources = Record<string, any>;

const resourcesOf = (template: Template, type: string): Resources => template.findResources(type);

/** The logical id a GetAtt/Ref in a template points at. */
function referenced(value: unknown): string | undefined {
  const ref = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string };
  return ref?.['Fn::GetAtt']?.[0] ?? ref?.Ref;
}

describe('scheduled jobs', () => {
  it('every scheduled function has an EventInvokeConfig: no retries, events older than 60 s dropped', () => {
    const check = (template: Template) => {
      const schedules = Object.values(resourcesOf(template, 'AWS::Scheduler::Schedule'));
      expect(schedules.length).toBeGreaterThan(0);
      const configs = Object.values(resourcesOf(template, 'AWS::Lambda::EventInvokeConfig'));
      const configured = new Map(configs.map((c) => [c.Properties.FunctionName.Ref, c.Properties]));
      const functions = template.findResources('AWS::Lambda::Function');
      for (const schedule of schedules) {
        const target = referenced(schedule.Properties.Target.Arn);
        expect(schedule.Properties.Target.RetryPolicy).toEqual({
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: 60,
        });
        // The minute driver's schedules put rounds on a queue: no asynchronous invocation.
        if (target === undefined || !(target in functions)) continue;
        expect(configured.get(target), `EventInvokeConfig of ${target}`).toEqual({
          FunctionName: { Ref: target },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: SCHEDULED_EVENT_AGE_SECONDS,
          Qualifier: '$LATEST',
        });
      }
    };
    app.each((_stack, template) => check(template));
    for (const witness of app.built.witnessStacks) check(templateOf(witness));
  });

  it('the probes fire on the dot; every other job is spread over a flexible window', () => {
    app.each((stack, template) => {
      const schedules = resourcesOf(template, 'AWS::Scheduler::Schedule');
      const minute = Object.values(stack.minuteDriver.schedules).map((s) => logicalId(s));
      for (const [id, schedule] of Object.entries(schedules)) {
        const window = schedule.Properties.FlexibleTimeWindow;
        if (minute.includes(id)) expect(window).toEqual({ Mode: 'OFF' });
        else {
          expect(window, id).toEqual({
            Mode: 'FLEXIBLE',
            MaximumWindowInMinutes: flexibleWindowMinutes(schedule.Properties.ScheduleExpression),
          });
        }
      }
      // Only the minute's rounds are on the dot (the probe's and the beat's, which starts 5 s in).
      const exact = Object.entries(schedules).filter(
        ([, s]) => s.Properties.FlexibleTimeWindow.Mode === 'OFF',
      );
      expect(exact.map(([id]) => id).sort()).toEqual([...minute].sort());
    });
    for (const witness of app.built.witnessStacks) {
      const schedules = Object.values(resourcesOf(templateOf(witness), 'AWS::Scheduler::Schedule'));
      expect(schedules.map((s) => s.Properties.FlexibleTimeWindow)).toEqual([{ Mode: 'OFF' }]);
    }
  });

  it('a window is one minute for a per-minute job and half the period, at most an hour, otherwise', () => {
    expect(flexibleWindowMinutes('rate(1 minute)')).toBe(1);
    expect(flexibleWindowMinutes('rate(5 minutes)')).toBe(2);
    expect(flexibleWindowMinutes('rate(1 hour)')).toBe(30);
    expect(flexibleWindowMinutes('rate(1 day)')).toBe(60);
  });
});

describe('operator notifications', () => {
  it('EventBridge publishes through a role only this bus’s rules in this account may assume', () => {
    app.each((stack, template) => {
      const rule = resourcesOf(template, 'AWS::Events::Rule')[
        logicalId(stack.events.notifyRule.node.defaultChild)
      ];
      const [target] = rule.Properties.Targets;
      expect(referenced(target.Arn)).toBe(logicalId(stack.events.topic.node.defaultChild));
      expect(referenced(target.RoleArn)).toBe(logicalId(stack.events.notifyRole.node.defaultChild));
      const role = resourcesOf(template, 'AWS::IAM::Role')[
        logicalId(stack.events.notifyRole.node.defaultChild)
      ];
      const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
      expect(trust.Principal).toEqual({ Service: 'events.amazonaws.com' });
      expect(Object.keys(trust.Condition).sort()).toEqual(['ArnLike', 'StringEquals']);
      expect(JSON.stringify(trust.Condition.ArnLike['aws:SourceArn'])).toContain(':rule/cortex-events/*');
      expect(trust.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    });
  });

  it('neither the topic’s nor its key’s policy names the EventBridge service', () => {
    app.each((stack, template) => {
      for (const type of ['AWS::SNS::TopicPolicy', 'AWS::KMS::Key']) {
        for (const [id, resource] of Object.entries(resourcesOf(template, type))) {
          expect(JSON.stringify(resource.Properties), `${type} ${id}`).not.toContain('events.amazonaws.com');
        }
      }
      expect(stack.events.topicKey).toBeDefined();
    });
  });
});
