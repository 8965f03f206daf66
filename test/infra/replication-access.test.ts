/**
 * Replication on AWS: the replication monitor on its schedule and the replication API, with
 * exactly the table actions they use on their own replica and on the other regions' replicas, and
 * the write counter every state writer needs (UpdateItem on the marks' partition only).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '../../lib/adapters/aws/state-keys.ts';
import { DEFAULT_BEAT_INTERVAL_MS } from '../../lib/core/replication/lag.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
import { REPLICATION_ACCESS, REPLICATION_PARTITION } from '../../lib/infra/replication-access.ts';
import { type BuiltApp, buildCortexApp, logicalId, templateOf } from './build.ts';
import { actionsOf, actionsOn, arnIn, resourcesAllowed, roleStatements } from './iam.ts';

const tableArn = (region: string) => arnIn('dynamodb', region, 'table/cortex-state');

const dynamo = (actions: readonly string[]) => actions.map((a) => `dynamodb:${a}`).sort();

describe('replication functions', () => {
  let built: BuiltApp;
  const templates = new Map<string, Template>();

  beforeAll(() => {
    built = buildCortexApp();
    for (const stack of built.regionalStacks) templates.set(stack.regionId, templateOf(stack));
  });

  function each(fn: (stack: RegionalStack, template: Template, peers: string[]) => void): void {
    expect(built.regionalStacks.length).toBe(3);
    for (const stack of built.regionalStacks) {
      const peers = built.topology.regions.map((r) => r.region_id).filter((r) => r !== stack.regionId);
      fn(stack, templates.get(stack.regionId) as Template, peers);
    }
  }

  it('the marks partition is the one the replication adapter writes', () => {
    expect(REPLICATION_PARTITION).toBe(keys.replicationMark('us-east-1').pk);
  });

  describe('the replication monitor', () => {
    it('runs a round per invocation from its queue of the minute’s beats, and hourly for a consistency check', () => {
      each((stack, template) => {
        const monitorArn = {
          'Fn::GetAtt': [logicalId(stack.replicationMonitor.function.node.defaultChild), 'Arn'],
        };
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: logicalId(stack.replicationMonitor.function.node.defaultChild) },
          EventSourceArn: {
            'Fn::GetAtt': [logicalId(stack.minuteDriver.queues.ReplicationMonitor?.node.defaultChild), 'Arn'],
          },
          BatchSize: 1,
        });
        expect(stack.minuteDriver.entries.ReplicationMonitor).toHaveLength(60_000 / DEFAULT_BEAT_INTERVAL_MS);
        const fn =
          template.findResources('AWS::Lambda::Function')[
            logicalId(stack.replicationMonitor.function.node.defaultChild)
          ];
        // One round (or the hourly check) per invocation: the queue delivers each at its second.
        expect(fn?.Properties.Timeout).toBeLessThanOrEqual(30);
        template.hasResourceProperties('AWS::Scheduler::Schedule', {
          ScheduleExpression: 'rate(1 hour)',
          Target: Match.objectLike({
            Arn: monitorArn,
            Input: JSON.stringify({ task: 'consistency_check', sample_size: 100 }),
          }),
        });
        expect(fn?.Properties.Environment.Variables).toMatchObject({
          CORTEX_REGION_ID: stack.regionId,
          CORTEX_TABLE_NAME: 'cortex-state',
          CORTEX_EVENT_BUS: { Ref: expect.any(String) },
        });
      });
    });

    it('beats, counts and keeps its views on its own replica; only queries and batch-reads the others', () => {
      each((stack, template, peers) => {
        const statements = roleStatements(template, stack.replicationMonitor.role);
        expect(actionsOn(statements, tableArn(stack.regionId))).toEqual(
          dynamo(REPLICATION_ACCESS.monitor.own),
        );
        for (const peer of peers) {
          expect(actionsOn(statements, tableArn(peer))).toEqual(dynamo(REPLICATION_ACCESS.monitor.remote));
        }
        expect(resourcesAllowed(statements, 'events:PutEvents')).toEqual([
          { 'Fn::GetAtt': [logicalId(stack.events.bus.node.defaultChild), 'Arn'] },
        ]);
        // The hourly check samples its own replica only.
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toEqual([tableArn(stack.regionId)]);
      });
    });
  });

  describe('the replication API', () => {
    it('samples and reads its own replica, reads and (on reconcile) repairs the others, never scans them', () => {
      each((stack, template, peers) => {
        const statements = roleStatements(template, stack.handlers.replication.role);
        expect(actionsOn(statements, tableArn(stack.regionId))).toEqual(dynamo(REPLICATION_ACCESS.api.own));
        for (const peer of peers) {
          expect(actionsOn(statements, tableArn(peer))).toEqual(dynamo(REPLICATION_ACCESS.api.remote));
        }
        expect(resourcesAllowed(statements, 'dynamodb:Scan')).toEqual([tableArn(stack.regionId)]);
      });
    });

    it('touches no table other than the state table (the selective tables are not its to check)', () => {
      each((stack, template) => {
        const statements = roleStatements(template, stack.handlers.replication.role).filter(
          (s) => s.Effect === 'Allow',
        );
        for (const statement of statements.filter((s) =>
          actionsOf(s).some((a) => a.startsWith('dynamodb:')),
        )) {
          expect(JSON.stringify(statement.Resource)).not.toContain('cortex-sel-');
          expect(JSON.stringify(statement.Resource)).not.toContain('cortex-critical');
        }
      });
    });
  });

  describe('the write counter', () => {
    it('lets the router count its handoff writes: UpdateItem on the marks partition of its replica only', () => {
      each((stack, template) => {
        const statements = roleStatements(template, stack.handlers.router.role);
        const allows = statements.filter((s) => s.Effect === 'Allow');
        const updates = allows.filter((s) => actionsOf(s).includes('dynamodb:UpdateItem'));
        // Every UpdateItem the router holds is confined to one partition of its own replica: the
        // marks (this issue) and the resource pools (the reservations).
        expect(updates).toContainEqual({
          Effect: 'Allow',
          Action: 'dynamodb:UpdateItem',
          Resource: tableArn(stack.regionId),
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [REPLICATION_PARTITION] } },
        });
        for (const statement of updates) {
          expect(statement.Resource).toEqual(tableArn(stack.regionId));
          expect(statement.Condition).toMatchObject({
            'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [expect.any(String)] },
          });
        }
      });
    });
  });
});
