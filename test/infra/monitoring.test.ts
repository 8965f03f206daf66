/**
 * Monitoring in every regional stack: the deployment's one dashboard (in the first region), and each
 * alarm on its catalog metric at the
 * topology's monitoring target, notifying the operators' topic, which CloudWatch may publish to (and
 * whose key it may use) for this account's alarms only. The optional email subscription and its
 * validation on a standalone construct.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { LATENCY_LINK_MESSAGE } from '../../lib/app/metrics.ts';
import type { MonitoringTargets } from '../../lib/core/topology/sections.ts';
import {
  ALARM_EMAIL_CONTEXT,
  type AlarmSpec,
  alarmSpecs,
  latencySamplerLogGroupName,
  Monitoring,
} from '../../lib/infra/monitoring.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
import { logicalId, useRegionalTemplates } from './build.ts';

const PERCENTILE = /^p\d+(\.\d+)?$/;

/** The alarm's properties as CloudFormation holds them. */
function alarmProperties(spec: AlarmSpec, topicRef: unknown): Record<string, unknown> {
  // CloudFormation's list is in name order (CDK sorts it).
  const dimensions = Object.entries(spec.dimensions)
    .map(([Name, Value]) => ({ Name, Value }))
    .sort((a, b) => a.Name.localeCompare(b.Name));
  return {
    Namespace: 'Cortex',
    MetricName: spec.metric,
    Dimensions: dimensions,
    ...(PERCENTILE.test(spec.statistic)
      ? { ExtendedStatistic: spec.statistic }
      : { Statistic: spec.statistic }),
    Period: spec.period.toSeconds(),
    Threshold: spec.threshold,
    ComparisonOperator: spec.comparison,
    EvaluationPeriods: spec.evaluationPeriods,
    DatapointsToAlarm: spec.datapointsToAlarm,
    TreatMissingData: spec.treatMissingData,
    AlarmActions: [topicRef],
    OKActions: [topicRef],
  };
}

function monitoringOf(stack: RegionalStack): Monitoring {
  return stack.node.findChild('Monitoring') as Monitoring;
}

function findSpec(specs: readonly AlarmSpec[], id: string): AlarmSpec {
  const spec = specs.find((s) => s.id === id);
  if (!spec) throw new Error(`no alarm ${id}`);
  return spec;
}

describe('monitoring in every regional stack', () => {
  const stacks = useRegionalTemplates();

  it("has each alarm on its metric, statistic, period, threshold and comparison, to the operators' topic", () => {
    stacks.each((stack, template) => {
      const topicRef = { Ref: logicalId(stack.events.topic.node.defaultChild) };
      const specs = alarmSpecs(
        stack.regionId,
        stacks.built.topology.regions.map((r) => r.region_id),
        stacks.built.topology.monitoring,
      );
      for (const spec of specs) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `${stacks.built.topology.name}-${stack.regionId}-${spec.id}`,
          ...alarmProperties(spec, topicRef),
        });
      }
      // Nothing but these alarms: each one is specified (and priced) above.
      expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(specs.length);
    });
  });

  it("alarms at the spec's thresholds: availability < 99.99 %, utilization >= 70/85 %, latency p50/p95/p99 > 100/250/500 ms, lag > 30 s, failover > 900 s, residency > 0, audit < 100 %", () => {
    const regions = stacks.built.topology.regions.map((r) => r.region_id);
    const [home, peer] = regions as [string, string];
    const specs = alarmSpecs(home, regions, stacks.built.topology.monitoring);
    const expectations: [string, string, number, string][] = [
      ['Availability', 'RegionAvailability', 99.99, 'LessThanThreshold'],
      ['UtilizationWarning', 'RegionalUtilization', 70, 'GreaterThanOrEqualToThreshold'],
      ['UtilizationCritical', 'RegionalUtilization', 85, 'GreaterThanOrEqualToThreshold'],
      ['LatencyOverTarget', 'LatencyOverTarget', 100, 'GreaterThanThreshold'],
      ['ReplicationLag', 'ReplicationLag', 30, 'GreaterThanThreshold'],
      ['FailoverTime', 'FailoverTime', 900, 'GreaterThanThreshold'],
      ['ResidencyViolations', 'ResidencyViolations', 0, 'GreaterThanThreshold'],
      ['AuditSuccessRate', 'AuditSuccessRate', 100, 'LessThanThreshold'],
    ];
    for (const [id, metric, threshold, comparison] of expectations) {
      const spec = findSpec(specs, id);
      expect({ id, metric: spec.metric, threshold: spec.threshold, comparison: spec.comparison }).toEqual({
        id,
        metric,
        threshold,
        comparison,
      });
    }
    // The latency targets (p50/p95/p99 100/250/500 ms) are applied by the sampler to each link's
    // own percentiles; the alarm compares the worst share with 100 %.
    expect(findSpec(specs, 'LatencyOverTarget').statistic).toBe('Maximum');
    expect(findSpec(specs, 'LatencyOverTarget').description).toContain('100 / 250 / 500 ms');
    expect(findSpec(specs, 'LatencyOverTarget').description).toContain(peer);
    // What a round sees of several regions or links is one figure of the observer (the lowest
    // availability, the busiest peer, the longest lag, the worst link): one alarm each.
    for (const id of ['Availability', 'UtilizationWarning', 'ReplicationLag', 'LatencyOverTarget'])
      expect(findSpec(specs, id).dimensions).toEqual({ region: home });
    expect(findSpec(specs, 'Availability').period.toSeconds()).toBe(60);
    expect(specs).toHaveLength(8);
  });

  it("lets CloudWatch publish to the topic and use its key for this account's alarms only", () => {
    stacks.each((stack, template) => {
      const topicRef = { Ref: logicalId(stack.events.topic.node.defaultChild) };
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [topicRef],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: topicRef,
              Condition: {
                ArnLike: { 'aws:SourceArn': Match.anyValue() },
                StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              },
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            }),
          ]),
        },
      });
      // The alarms' ARN pattern is this region's and account's alarms, not any.
      const policies = template.findResources('AWS::SNS::TopicPolicy');
      const text = JSON.stringify(policies);
      expect(text).toContain(`:cloudwatch:${stack.regionId}:`);
      expect(text).toContain(':alarm:*');
    });
  });

  it('has one dashboard for the deployment, in the first region, with every key metric of every region', () => {
    const regions = stacks.built.topology.regions.map((r) => r.region_id);
    stacks.each((stack, template) => {
      const first = stack.regionId === regions[0];
      template.resourceCountIs('AWS::CloudWatch::Dashboard', first ? 1 : 0);
      expect(monitoringOf(stack).dashboard === undefined).toBe(!first);
      if (!first) return;
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', {
        DashboardName: stacks.built.topology.name,
      });
      const body = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
      for (const metric of [
        'RegionAvailability',
        'LatencyOverTarget',
        'ReplicationLag',
        'FailoverTime',
        'RegionalUtilization',
        'ResidencyViolations',
        'AuditSuccessRate',
      ]) {
        expect(body).toContain(metric);
      }
      // Every region's figures and alarms (dashboards are global; each metric names its region).
      for (const region of regions) {
        if (region !== stack.regionId) expect(body).toContain(`"region\\":\\"${region}`);
        expect(body).toContain(`:cloudwatch:${region}:`);
      }
    });
  });

  it("draws each link's p50, p95 and p99 from the sampler's log lines in its own region, with no metric a link", () => {
    const regions = stacks.built.topology.regions.map((r) => r.region_id);
    const logGroup = latencySamplerLogGroupName(stacks.built.topology.name);
    stacks.each((stack, template) => {
      // Every region's sampler logs to the one name the dashboard queries; deleted with its stack,
      // so a destroyed deployment redeploys.
      const groups = template.findResources('AWS::Logs::LogGroup', {
        Properties: { LogGroupName: logGroup },
      });
      expect(Object.values(groups)).toEqual([expect.objectContaining({ DeletionPolicy: 'Delete' })]);
      template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: Match.objectLike({ LogGroup: { Ref: Object.keys(groups)[0] } }),
      });
      expect(JSON.stringify(template.toJSON())).not.toContain('CrossRegionLatency');
      if (stack.regionId !== regions[0]) return;
      const dashboard = Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0];
      const body = JSON.parse(
        ((dashboard?.Properties.DashboardBody['Fn::Join'][1] ?? []) as unknown[])
          .map((part) => (typeof part === 'string' ? part : 'TOKEN'))
          .join(''),
      ) as { widgets: { type: string; properties: Record<string, string> }[] };
      const logWidgets = body.widgets.filter((w) => w.type === 'log');
      const links = regions.flatMap((from) => regions.filter((to) => to !== from).map((to) => [from, to]));
      expect(logWidgets).toHaveLength(links.length);
      for (const [from, to] of links) {
        const widget = logWidgets.find((w) => w.properties.title?.startsWith(`Latency ${from} -> ${to} `));
        expect(widget?.properties).toMatchObject({ region: from, view: 'timeSeries' });
        expect(widget?.properties.query).toContain(`SOURCE '${logGroup}'`);
        expect(widget?.properties.query).toContain(
          `filter message = '${LATENCY_LINK_MESSAGE}' and peer = '${to}'`,
        );
        expect(widget?.properties.query).toMatch(
          /stats max\(p50_ms\) as p50, max\(p95_ms\) as p95, max\(p99_ms\) as p99 by bin/,
        );
      }
    });
  });

  it('subscribes no email without one asked for', () => {
    stacks.each((stack, template) => {
      template.resourceCountIs('AWS::SNS::Subscription', 0);
      expect(monitoringOf(stack).emailSubscription).toBeUndefined();
    });
  });
});

const TARGETS: MonitoringTargets = {
  health: {
    region_availability: { metric: 'percentage', sla: 99.9, measurement_interval_seconds: 300 },
    service_health: { metric: 'boolean', critical_services: ['coordinator'] },
  },
  performance: {
    cross_region_latency: { metric: 'milliseconds', p50_target: 80, p95_target: 200, p99_target: 400 },
    replication_lag: { metric: 'seconds', synchronous_target: 2, asynchronous_target: 60 },
    failover_time: { metric: 'seconds', rto_target: 600 },
  },
  capacity: {
    regional_utilization: { metric: 'percentage', warning_threshold: 60, critical_threshold: 80 },
    cross_region_bandwidth: { metric: 'mbps', monitoring_interval_seconds: 300 },
  },
  compliance: {
    data_residency_violations: { metric: 'count', target: 0 },
    audit_success_rate: { metric: 'percentage', target: 95 },
  },
};

function standalone(
  context: Record<string, unknown> = {},
  alarmEmail?: string,
): { stack: Stack; monitoring: Monitoring } {
  const app = new App({ context });
  const stack = new Stack(app, 'Watch', { env: { account: '111122223333', region: 'eu-west-1' } });
  const topicKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const topic = new sns.Topic(stack, 'Topic', { masterKey: topicKey, enforceSSL: true });
  const monitoring = new Monitoring(stack, 'Monitoring', {
    name: 'cortex',
    regionId: 'eu-west-1',
    regionIds: ['us-east-1', 'eu-west-1'],
    targets: TARGETS,
    topic,
    topicKey,
    ...(alarmEmail === undefined ? {} : { alarmEmail }),
  });
  return { stack, monitoring };
}

describe('Monitoring', () => {
  it('takes every threshold and the availability interval from the targets it is given', () => {
    const template = Template.fromStack(standalone().stack);
    const expect1 = (id: string, properties: Record<string, unknown>) =>
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `cortex-eu-west-1-${id}`,
        ...properties,
      });
    expect1('Availability', { Threshold: 99.9, Period: 300 });
    expect1('UtilizationWarning', { Threshold: 60 });
    expect1('UtilizationCritical', { Threshold: 80 });
    expect1('LatencyOverTarget', {
      Threshold: 100,
      Statistic: 'Maximum',
      AlarmDescription: Match.stringLikeRegexp('80 / 200 / 400 ms'),
    });
    expect1('ReplicationLag', { Threshold: 60 });
    expect1('FailoverTime', { Threshold: 600 });
    expect1('AuditSuccessRate', { Threshold: 95, Period: Duration.days(1).toSeconds() });
  });

  it('subscribes the address of `-c alarmEmail=` (or of its props) to the topic', () => {
    const fromContext = Template.fromStack(standalone({ [ALARM_EMAIL_CONTEXT]: 'oncall@example.com' }).stack);
    fromContext.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
    const fromProps = standalone({}, 'ops@example.com');
    expect(fromProps.monitoring.emailSubscription).toBeDefined();
    Template.fromStack(fromProps.stack).hasResourceProperties('AWS::SNS::Subscription', {
      Endpoint: 'ops@example.com',
    });
  });

  it('refuses an alarm email that is not an address, naming the context key', () => {
    expect(() => standalone({ [ALARM_EMAIL_CONTEXT]: 'not-an-address' })).toThrow(/context alarmEmail/);
    expect(() => standalone({}, 'two@@example')).toThrow(/must be an email address/);
  });

  it('refuses a region outside the regions it watches', () => {
    const app = new App();
    const stack = new Stack(app, 'Bad', { env: { account: '111122223333', region: 'eu-west-1' } });
    const topicKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const topic = new sns.Topic(stack, 'Topic', { masterKey: topicKey });
    expect(
      () =>
        new Monitoring(stack, 'Monitoring', {
          name: 'cortex',
          regionId: 'ap-south-1',
          regionIds: ['us-east-1', 'eu-west-1'],
          targets: TARGETS,
          topic,
          topicKey,
        }),
    ).toThrow(/ap-south-1 is not among regionIds/);
  });
});
