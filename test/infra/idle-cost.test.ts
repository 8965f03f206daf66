/**
 * What an idle deployment pays for, as deployed: no function waits between rounds (the Express
 * minute driver does, started each minute by EventBridge Scheduler, with a role that may only invoke
 * the round functions), X-Ray samples the rounds and /health instead of tracing nearly every one,
 * one customer managed key per region serves the table, the selective replicas and the operators'
 * topic, and the background jobs come from one table.
 */
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { healthPolicyOf } from '../../lib/core/health/evaluate.ts';
import { BACKGROUND_JOBS } from '../../lib/infra/handler-function.ts';
import {
  MINUTE_BUDGET_SECONDS,
  MINUTE_DRIVER_TIMEOUT_SECONDS,
  MINUTE_TRACE_RATE,
  MinuteDriver,
  minuteDefinition,
  samplingRuleName,
} from '../../lib/infra/minute-driver.ts';
import { backgroundJobTable, type RegionalStack } from '../../lib/infra/regional-stack.ts';
import { logicalId, newApp, templateOf, useRegionalTemplates } from './build.ts';
import { actionsAllowed, type Statement, statementsOfRole } from './iam.ts';

const app = useRegionalTemplates();

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation JSON, checked by shape.
type Resource = Record<string, any>;

const roleStatements = (template: Template, role: { node: { defaultChild?: unknown } }): Statement[] =>
  statementsOfRole(template, logicalId(role.node.defaultChild));

const functionOf = (template: Template, fn: { node: { defaultChild?: unknown } }): Resource =>
  template.findResources('AWS::Lambda::Function')[logicalId(fn.node.defaultChild)] as Resource;

const arnOf = (fn: { node: { defaultChild?: unknown } }) => ({
  'Fn::GetAtt': [logicalId(fn.node.defaultChild), 'Arn'],
});

describe('the minute driver', () => {
  it('is one Express state machine per region, timed out past its budget, logging errors, traced', () => {
    app.each((stack, template) => {
      const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
      // The failover workflow and the two DR runbooks are Standard.
      expect(machines.map((m) => m.Properties.StateMachineType).sort()).toEqual([
        'EXPRESS',
        'STANDARD',
        'STANDARD',
        'STANDARD',
      ]);
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: 'cortex-minute',
        StateMachineType: 'EXPRESS',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ERROR', IncludeExecutionData: false }),
      });
      const definition = stack.minuteDriver.definition;
      expect(definition.TimeoutSeconds).toBe(MINUTE_DRIVER_TIMEOUT_SECONDS);
      expect(MINUTE_DRIVER_TIMEOUT_SECONDS).toBeGreaterThan(MINUTE_BUDGET_SECONDS);
    });
  });

  it('runs the probe’s and the replication monitor’s rounds, one branch each, waiting in Wait states', () => {
    app.each((stack, template) => {
      const machine = template.findResources('AWS::StepFunctions::StateMachine')[
        logicalId(stack.minuteDriver.stateMachine.node.defaultChild)
      ] as Resource;
      const asl = JSON.parse(machine.Properties.DefinitionString);
      const branches = asl.States.Jobs.Branches as { StartAt: string; States: Record<string, Resource> }[];
      expect(branches.map((b) => b.StartAt)).toEqual(['HealthProbeFirst', 'ReplicationMonitorFirst']);
      for (const branch of branches) {
        const waits = Object.values(branch.States).filter((s) => s.Type === 'Wait');
        expect(waits).toEqual([expect.objectContaining({ TimestampPath: '$.next_at' })]);
      }
      expect(machine.Properties.DefinitionSubstitutions).toEqual({
        HealthProbe_function_arn: arnOf(stack.probe.function),
        ReplicationMonitor_function_arn: arnOf(stack.replicationMonitor.function),
      });
    });
  });

  it('may invoke exactly its rounds’ functions (unqualified), and nothing else but its logs and traces', () => {
    app.each((stack, template) => {
      const statements = roleStatements(template, stack.minuteDriver.role);
      const invoke = statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
      expect(invoke).toEqual([
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: [arnOf(stack.probe.function), arnOf(stack.replicationMonitor.function)],
        },
      ]);
      const others = [...actionsAllowed(statements)].filter((a) => a !== 'lambda:InvokeFunction');
      for (const action of others) expect(action).toMatch(/^(logs|xray):/);
      // Started only by its schedule, whose role may do nothing else.
      expect(roleStatements(template, stack.minuteSchedule.role)).toEqual([
        {
          Effect: 'Allow',
          Action: 'states:StartExecution',
          Resource: { Ref: logicalId(stack.minuteDriver.stateMachine.node.defaultChild) },
        },
      ]);
    });
  });

  it('rejects an empty job list, duplicate or badly named jobs', () => {
    const { app: scratch } = newApp();
    const stack = new Stack(scratch, 'Scratch', { env: { region: 'us-east-1', account: '111111111111' } });
    const fn = lambda.Function.fromFunctionArn(
      stack,
      'Fn',
      'arn:aws:lambda:us-east-1:111111111111:function:round',
    );
    expect(() => new MinuteDriver(stack, 'None', { stateMachineName: 'x', jobs: [] })).toThrow(
      /at least one job/,
    );
    expect(
      () =>
        new MinuteDriver(stack, 'Twice', {
          stateMachineName: 'x',
          jobs: [
            { id: 'Probe', target: fn },
            { id: 'Probe', target: fn },
          ],
        }),
    ).toThrow(/unique/);
    expect(
      () =>
        new MinuteDriver(stack, 'Bad', { stateMachineName: 'x', jobs: [{ id: 'health-probe', target: fn }] }),
    ).toThrow(/letters and digits/);
  });

  it('names its X-Ray rule within X-Ray’s 32 characters', () => {
    expect(samplingRuleName('cortex-minute')).toBe('cortex-minute');
    const long = samplingRuleName(`${'a'.repeat(64)}-minute-witness-us-west-2`);
    expect(long).toHaveLength(32);
    expect(long).not.toBe(samplingRuleName(`${'a'.repeat(64)}-minute-witness-eu-west-3`));
  });

  it('passes each job’s own input with the minute’s budget', () => {
    const asl = minuteDefinition([{ id: 'Job', input: { task: 'monitor' } }]) as Resource;
    expect(asl.States.Jobs.Branches[0].States.JobRound.Parameters.Payload).toEqual({
      task: 'monitor',
      minute: {
        'started_at.$': '$$.Execution.StartTime',
        budget_ms: MINUTE_BUDGET_SECONDS * 1000,
        'cursor.$': '$.cursor',
      },
    });
  });
});

describe('no function waits between rounds', () => {
  it('the round functions’ timeouts are one round, under the minute; nothing else is started every minute', () => {
    app.each((stack, template) => {
      const policy = healthPolicyOf(app.built.topology);
      const probe = functionOf(template, stack.probe.function).Properties;
      expect(probe.Timeout).toBeGreaterThan(policy.timeout_seconds);
      expect(probe.Timeout).toBeLessThan(policy.interval_seconds);
      expect(functionOf(template, stack.replicationMonitor.function).Properties.Timeout).toBeLessThanOrEqual(
        30,
      );
      // Every per-minute schedule starts the driver; no function is invoked every minute to loop.
      const perMinute = Object.values(template.findResources('AWS::Scheduler::Schedule')).filter(
        (s) => s.Properties.ScheduleExpression === 'rate(1 minute)',
      );
      const targets = perMinute.map((s) => JSON.stringify(s.Properties.Target.Arn));
      const sampler = JSON.stringify(arnOf(stack.latencySampler.function));
      expect(targets.filter((t) => t !== sampler)).toEqual([
        JSON.stringify({ Ref: logicalId(stack.minuteDriver.stateMachine.node.defaultChild) }),
      ]);
    });
  });

  it('a witness runs its rounds from its own minute driver too', () => {
    for (const witness of app.built.witnessStacks) {
      const template = templateOf(witness);
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'EXPRESS',
        DefinitionSubstitutions: { WitnessProbe_function_arn: arnOf(witness.probe.function) },
      });
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({
          Arn: { Ref: logicalId(witness.minuteDriver.stateMachine.node.defaultChild) },
        }),
      });
      const probe = functionOf(template, witness.probe.function).Properties;
      expect(probe.Timeout).toBeLessThan(healthPolicyOf(app.built.topology).interval_seconds);
      expect(probe.TracingConfig).toEqual({ Mode: 'PassThrough' });
    }
  });
});

describe('X-Ray sampling', () => {
  it('samples a share of the driver’s minutes; its rounds and /health trace only what their caller sampled', () => {
    app.each((stack, template) => {
      template.hasResourceProperties('AWS::XRay::SamplingRule', {
        SamplingRule: Match.objectLike({
          RuleName: 'cortex-minute',
          ServiceName: 'cortex-minute',
          FixedRate: MINUTE_TRACE_RATE,
          ReservoirSize: 0,
          // Ahead of the default rule (10000), whose reservoir would take every minute.
          Priority: Match.anyValue(),
          Version: 1,
        }),
      });
      const rule = Object.values(template.findResources('AWS::XRay::SamplingRule'))[0] as Resource;
      expect(rule.Properties.SamplingRule.Priority).toBeLessThan(10000);
      expect(MINUTE_TRACE_RATE).toBeLessThanOrEqual(0.05);
      for (const handler of [
        stack.probe,
        stack.replicationMonitor,
        stack.handlers.health,
        stack.latencySampler,
        stack.rebalancer,
      ]) {
        expect(functionOf(template, handler.function).Properties.TracingConfig).toEqual({
          Mode: 'PassThrough',
        });
      }
      // The failover path stays fully traced.
      expect(functionOf(template, stack.failover.function).Properties.TracingConfig).toEqual({
        Mode: 'Active',
      });
    });
  });
});

describe('Lambda logs', () => {
  it('leave out Lambda’s START, END and REPORT lines and keep the application’s (EMF metrics are INFO)', () => {
    app.each((_stack, template) => {
      const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Resource[];
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) {
        expect(fn.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON', SystemLogLevel: 'WARN' });
        // A metric line carries no level: Lambda files it as INFO, which a WARN level would drop.
        expect(fn.Properties.LoggingConfig.ApplicationLogLevel ?? 'INFO').toBe('INFO');
      }
    });
  });
});

describe('KMS keys', () => {
  it('one customer managed key per region encrypts its table replica and the operators’ topic', () => {
    app.each((stack, template) => {
      const keys = Object.keys(template.findResources('AWS::KMS::Key'));
      expect(keys).toEqual([logicalId(stack.tableKey.key.node.defaultChild)]);
      expect(stack.events.topicKey).toBe(stack.tableKey.key);
      template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: arnOf(stack.tableKey.key) });
    });
  });

  it('EventBridge may use the shared key only through SNS', () => {
    app.each((stack, template) => {
      const kms = roleStatements(template, stack.events.notifyRole).filter((s) =>
        [s.Action].flat().some((a) => a.startsWith('kms:')),
      );
      expect(kms).toEqual([
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          Resource: arnOf(stack.tableKey.key),
          Condition: { StringEquals: { 'kms:ViaService': `sns.${stack.regionId}.amazonaws.com` } },
        },
      ]);
    });
  });
});

describe('background jobs from one table', () => {
  it('every job of the table is deployed with the table’s timeout and memory', () => {
    app.each((stack: RegionalStack, template) => {
      const table = backgroundJobTable(app.built.topology);
      expect(Object.keys(table).sort()).toEqual([...BACKGROUND_JOBS].sort());
      for (const name of BACKGROUND_JOBS) {
        const props = functionOf(template, stack.jobs[name].function).Properties;
        expect(props.Timeout, name).toBe(table[name].timeout.toSeconds());
        expect(props.MemorySize, name).toBe(table[name].memorySize);
      }
    });
  });

  it('the jobs with minute rounds are exactly the driver’s branches', () => {
    app.each((stack) => {
      const table = backgroundJobTable(app.built.topology);
      const driven = BACKGROUND_JOBS.filter((name) => table[name].minuteRounds);
      expect(driven).toEqual(['health-probe', 'replication-monitor']);
      const branches = (stack.minuteDriver.definition.States as Resource).Jobs.Branches.length;
      expect(branches).toBe(driven.length);
    });
  });
});
