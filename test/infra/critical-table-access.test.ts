/**
 * Synchronous data on AWS: where the placement has the MRSC table `<name>-critical` (exactly
 * three regions in one region set), the Lambda functions keep region statuses, failovers and handoffs
 * there. Every function granted item actions on a state table replica gets the same on the same
 * region's MRSC replica, except the partitions that live in the state table only (LeadingKeys grants)
 * and the consistency check's sampling (Scan, BatchGetItem).
 */
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { type PlacedTable, resourcePoolTable } from '../../lib/core/replication/placement.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { CONCERN_ACCESS, JOB_TABLE_ACCESS, RegionalStack } from '../../lib/infra/regional-stack.ts';
import { StateTables } from '../../lib/infra/state-tables.ts';
import { WITNESS_TABLE_ACCESS } from '../../lib/infra/witness-stack.ts';
import { usRegionSetTopologyJson } from '../fixtures/replication-topologies.ts';
import { type BuiltApp, buildCortexApp, logicalId, newApp, templateOf } from './build.ts';
import {
  actionsOf,
  allStatements,
  arnIn,
  resourcesOf,
  roleStatements,
  type Statement,
  statementsOfRole,
} from './iam.ts';

const STATE = 'cortex-state';
const CRITICAL = 'cortex-critical';
const STATE_TABLE_ONLY = ['dynamodb:Scan'];

const tableArn = (region: string, name: string) => arnIn('dynamodb', region, `table/${name}`);
const indexArn = (region: string, name: string) => arnIn('dynamodb', region, `table/${name}/index/gsi1`);

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function confinedToPartitions(s: Statement): boolean {
  return JSON.stringify(s.Condition ?? {}).includes('dynamodb:LeadingKeys');
}

/** DynamoDB actions allowed on `resource`, LeadingKeys-confined statements left out, sorted. */
function actionsOn(statements: readonly Statement[], resource: unknown): string[] {
  const actions = statements
    .filter((s) => s.Effect === 'Allow' && !confinedToPartitions(s))
    .filter((s) => resourcesOf(s).some((r) => equal(r, resource)))
    .flatMap(actionsOf)
    .filter((a) => a.startsWith('dynamodb:'));
  return [...new Set(actions)].sort();
}

/** Every Lambda function role of a template, by logical id. */
function lambdaRoles(template: Template): string[] {
  return Object.entries(template.findResources('AWS::IAM::Role'))
    .filter(([, role]) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    )
    .map(([id]) => id);
}

const dynamo = (actions: readonly string[]) => actions.map((a) => `dynamodb:${a}`).sort();

describe('the MRSC table cortex-critical, with three regions in one MRSC region set', () => {
  let built: BuiltApp;
  let critical: PlacedTable;
  /** Each regional and witness stack with its template and the regions whose replicas it may reach. */
  let stacks: { name: string; template: Template; regions: string[] }[];
  const templates = new Map<Stack, Template>();
  const template = (stack: Stack) => templates.get(stack) as Template;

  beforeAll(() => {
    built = buildCortexApp({ topology: validateTopology(usRegionSetTopologyJson()) });
    critical = built.placement.tables.find((t) => t.role === 'critical') as PlacedTable;
    const regionIds = built.topology.regions.map((r) => r.region_id);
    for (const stack of [built.stateStack, ...built.regionalStacks, ...built.witnessStacks]) {
      templates.set(stack, templateOf(stack));
    }
    stacks = [...built.regionalStacks, ...built.witnessStacks].map((stack) => ({
      name: stack.stackName,
      template: template(stack),
      regions: regionIds,
    }));
  });

  it('is placed: cortex-critical, MRSC, a replica in each of the three regions', () => {
    expect(critical).toMatchObject({ name: CRITICAL, consistency: 'MRSC' });
    expect([...critical.regions].sort()).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
    expect(built.witnessStacks.map((s) => s.stackName)).toEqual(['CortexWitness-witness-ca-central-1']);
  });

  it('gives every role the state table actions it holds in a region on that region’s MRSC replica, but Scan', () => {
    let checked = 0;
    for (const { name, template, regions } of stacks) {
      for (const roleId of lambdaRoles(template)) {
        const statements = statementsOfRole(template, roleId);
        for (const region of regions) {
          const onState = actionsOn(statements, tableArn(region, STATE));
          const expected = onState.filter((a) => !STATE_TABLE_ONLY.includes(a));
          expect(actionsOn(statements, tableArn(region, CRITICAL)), `${name} ${roleId} in ${region}`).toEqual(
            expected,
          );
          expect(
            actionsOn(statements, indexArn(region, CRITICAL)),
            `${name} ${roleId} gsi1 in ${region}`,
          ).toEqual(expected.includes('dynamodb:Query') ? ['dynamodb:Query'] : []);
          if (onState.length > 0) checked += 1;
        }
      }
    }
    // At least every function of the regional stacks holding the state table on its own replica (the
    // data API holds none), and the witness on each.
    const withTable = CONCERNS.filter((c) => CONCERN_ACCESS[c].table !== undefined).length;
    expect(withTable).toBe(CONCERNS.length - 1);
    expect(checked).toBeGreaterThanOrEqual(built.regionalStacks.length * (withTable + 7) + 3);
  });

  it('grants no Scan or partition-confined (LeadingKeys) statement on it but the pools’', () => {
    for (const { name, template } of stacks) {
      for (const statement of allStatements(template).filter((s) => s.Effect === 'Allow')) {
        if (!JSON.stringify(statement.Resource).includes(`table/${CRITICAL}`)) continue;
        for (const action of STATE_TABLE_ONLY) expect(actionsOf(statement), name).not.toContain(action);
        if (!confinedToPartitions(statement)) continue;
        // The one exception: the pools follow worker_assignments into the MRSC table, and the router
        // reserves there with UpdateItem on the RESOURCES partition, and releases its own region's
        // holds, each partition alone.
        expect(actionsOf(statement), name).toEqual(['dynamodb:UpdateItem']);
        expect(JSON.stringify(statement.Condition), name).toMatch(
          /^\{"ForAllValues:StringEquals":\{"dynamodb:LeadingKeys":\["(RESOURCES|HOLDS#[a-z0-9-]+)"\]\}\}$/,
        );
      }
    }
  });

  it('lets the router reserve on the pools in its own region’s MRSC replica (RESOURCES partition only)', () => {
    expect(resourcePoolTable(built.topology)).toBe(CRITICAL);
    for (const stack of built.regionalStacks) {
      const statements = roleStatements(template(stack), stack.handlers.router.role).filter(
        (s) => confinedToPartitions(s) && JSON.stringify(s.Condition).includes('RESOURCES'),
      );
      expect(statements.flatMap((s) => resourcesOf(s)).map((r) => JSON.stringify(r))).toEqual(
        expect.arrayContaining([JSON.stringify(tableArn(stack.regionId, CRITICAL))]),
      );
    }
  });

  it('lets the failover steps read (GetItem, Query) the other regions’ replicas, and write only their own', () => {
    for (const stack of built.regionalStacks) {
      const statements = roleStatements(template(stack), stack.failover.role);
      expect(actionsOn(statements, tableArn(stack.regionId, CRITICAL))).toEqual(
        dynamo(JOB_TABLE_ACCESS.failover),
      );
      const peers = critical.regions.filter((r) => r !== stack.regionId);
      expect(peers).toHaveLength(2);
      for (const peer of peers) {
        expect(actionsOn(statements, tableArn(peer, CRITICAL))).toEqual(
          dynamo(JOB_TABLE_ACCESS.failoverRemote),
        );
        expect(actionsOn(statements, indexArn(peer, CRITICAL))).toEqual(['dynamodb:Query']);
      }
    }
  });

  it('lets the witness read statuses and write its views (GetItem, PutItem, Query) in every region’s replica', () => {
    const [witness] = built.witnessStacks;
    if (!witness) throw new Error('no witness stack');
    const statements = roleStatements(template(witness), witness.probe.role);
    for (const region of critical.regions) {
      expect(actionsOn(statements, tableArn(region, CRITICAL))).toEqual(dynamo(WITNESS_TABLE_ACCESS));
      expect(actionsOn(statements, indexArn(region, CRITICAL))).toEqual(['dynamodb:Query']);
    }
  });

  it('covers the MRSC replicas’ key use: each replica is encrypted with its region’s table key, which the roles may use through DynamoDB', () => {
    const table = Object.values(template(built.stateStack).findResources('AWS::DynamoDB::GlobalTable')).find(
      (t) => t.Properties.TableName === CRITICAL,
    );
    for (const replica of table?.Properties.Replicas ?? []) {
      expect(replica.SSESpecification).toEqual({
        KMSMasterKeyId: arnIn('kms', replica.Region, 'alias/cortex-state'),
      });
    }
    expect(table?.Properties.Replicas).toHaveLength(3);
    for (const stack of built.regionalStacks) {
      const key = { 'Fn::GetAtt': [logicalId(stack.tableKey.key.node.defaultChild), 'Arn'] };
      // The failover steps write here and read the others' replicas (their keys known by alias).
      const statements = roleStatements(template(stack), stack.failover.role);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
        Resource: key,
        Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.regionId}.amazonaws.com` } },
      });
      for (const peer of critical.regions.filter((r) => r !== stack.regionId)) {
        expect(statements).toContainEqual({
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: arnIn('kms', peer, 'key/*'),
          Condition: {
            StringEquals: { 'kms:ViaService': `dynamodb.${peer}.amazonaws.com` },
            'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/cortex-state' },
          },
        });
      }
    }
    // Every role that may touch a region's MRSC replica may decrypt with that region's table key
    // through DynamoDB there: its own stack's key, or another region's by alias.
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      const own = stack instanceof RegionalStack ? stack : undefined;
      for (const roleId of lambdaRoles(template(stack))) {
        const statements = statementsOfRole(template(stack), roleId);
        for (const region of critical.regions) {
          if (actionsOn(statements, tableArn(region, CRITICAL)).length === 0) continue;
          const keyUse =
            region === own?.regionId
              ? {
                  resource: { 'Fn::GetAtt': [logicalId(own.tableKey.key.node.defaultChild), 'Arn'] },
                  condition: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
                }
              : {
                  resource: arnIn('kms', region, 'key/*'),
                  condition: {
                    StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` },
                    'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/cortex-state' },
                  },
                };
          expect(
            statements.some(
              (s) =>
                s.Effect === 'Allow' &&
                actionsOf(s).includes('kms:Decrypt') &&
                resourcesOf(s).some((r) => equal(r, keyUse.resource)) &&
                equal(s.Condition, keyUse.condition),
            ),
            `${stack.stackName} ${roleId} in ${region}`,
          ).toBe(true);
        }
      }
    }
  });

  it('still points every function at the state table (CORTEX_TABLE_NAME); the runtime derives the MRSC table', () => {
    for (const stack of [...built.regionalStacks, ...built.witnessStacks]) {
      const functions = Object.values(template(stack).findResources('AWS::Lambda::Function')).filter(
        (fn) => fn.Properties.Environment?.Variables?.CORTEX_TABLE_NAME !== undefined,
      );
      expect(functions.length).toBeGreaterThan(0);
      for (const fn of functions) expect(fn.Properties.Environment.Variables.CORTEX_TABLE_NAME).toBe(STATE);
    }
  });
});

describe('without an MRSC table (the default topology: three region sets)', () => {
  it('no policy of any stack mentions cortex-critical', () => {
    const built = buildCortexApp();
    expect(built.placement.tables.map((t) => t.role)).not.toContain('critical');
    for (const stack of built.app.node.children.filter(Stack.isStack)) {
      expect(JSON.stringify(templateOf(stack).findResources('AWS::IAM::Policy'))).not.toContain(CRITICAL);
    }
  });
});

describe('StateTables', () => {
  const critical: PlacedTable = {
    name: CRITICAL,
    role: 'critical',
    regions: ['us-east-1', 'us-east-2', 'us-west-2'],
    homeRegion: 'us-east-1',
    consistency: 'MRSC',
    immutable: false,
    dataTypes: ['master_state'],
    policies: [],
  };

  function stack(): Stack {
    return new Stack(newApp().app, 'Probe', { env: { region: 'us-east-1' } });
  }

  it('refuses a critical table that is not the MRSC one, or has no replica in its region', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    expect(
      () =>
        new StateTables(s, 'Global', {
          tableName: STATE,
          key,
          criticalTable: { ...critical, name: STATE, role: 'global', consistency: 'MREC' },
        }),
    ).toThrow(/must be the placement's MRSC table/);
    expect(
      () =>
        new StateTables(s, 'Elsewhere', {
          tableName: STATE,
          regionId: 'eu-west-1',
          tableKeyAlias: 'alias/cortex-state',
          criticalTable: critical,
        }),
    ).toThrow(/no replica in eu-west-1/);
  });

  it('needs this region’s key for this region, and the key alias (not a key) for another', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    expect(() => new StateTables(s, 'NoKey', { tableName: STATE })).toThrow(/key is required/);
    expect(() => new StateTables(s, 'NoAlias', { tableName: STATE, regionId: 'us-east-2' })).toThrow(
      /tableKeyAlias is required/,
    );
    expect(
      () =>
        new StateTables(s, 'WrongKey', {
          tableName: STATE,
          regionId: 'us-east-2',
          key,
          tableKeyAlias: 'alias/cortex-state',
        }),
    ).toThrow(/named by tableKeyAlias/);
  });

  it('exposes the state table’s name and both replicas', () => {
    const s = stack();
    const tables = new StateTables(s, 'Remote', {
      tableName: STATE,
      regionId: 'us-west-2',
      tableKeyAlias: 'alias/cortex-state',
      criticalTable: critical,
    });
    expect(tables.tableName).toBe(STATE);
    expect(tables.state.tableName).toBe(STATE);
    expect(tables.critical?.tableName).toBe(CRITICAL);
    expect(s.resolve(tables.critical?.tableArn)).toEqual(tableArn('us-west-2', CRITICAL));
  });
});
