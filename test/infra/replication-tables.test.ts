import { type Stack, Stack as StackClass } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TopologyError } from '../../lib/core/errors.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { REPLICATION_NOTICE } from '../../lib/infra/app.ts';
import { IMMUTABLE_DENIED_ACTIONS } from '../../lib/infra/replication-tables.ts';
import {
  editedTopology,
  usRegionSetTopologyJson,
  withSelectivePolicies,
} from '../fixtures/replication-topologies.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { type BuiltApp, buildCortexApp, templateOf, warningsOf } from './build.ts';
import { actionsOf, resourcesOf, type Statement } from './iam.ts';
import { awsSolutionsFindings, expectAcknowledgedOnly, stackNames } from './nag.ts';

interface TableResource {
  readonly stack: string;
  readonly stackRegion: string;
  readonly properties: Record<string, unknown> & {
    TableName: string;
    Replicas: { Region: string; [key: string]: unknown }[];
  };
  readonly resource: Record<string, unknown>;
}

/** Every DynamoDB global table of every stack in the app. */
function tablesOf(built: BuiltApp): TableResource[] {
  return built.app.node.children.filter(StackClass.isStack).flatMap((stack) =>
    Object.values(templateOf(stack as Stack).findResources('AWS::DynamoDB::GlobalTable')).map((resource) => ({
      stack: (stack as Stack).stackName,
      stackRegion: (stack as Stack).region,
      properties: resource.Properties,
      resource,
    })),
  );
}

function tableNamed(built: BuiltApp, name: string): TableResource {
  const found = tablesOf(built).find((t) => t.properties.TableName === name);
  if (!found) throw new Error(`no table ${name}`);
  return found;
}

const regionsOf = (table: TableResource) => table.properties.Replicas.map((r) => r.Region).sort();

/** `arn:aws:dynamodb:<region>:<account>:table/<name>` as the template renders it. */
function tableArn(region: string, name: string): unknown {
  return { 'Fn::Join': ['', [`arn:aws:dynamodb:${region}:`, { Ref: 'AWS::AccountId' }, `:table/${name}`]] };
}

function aliasArn(region: string): unknown {
  return { 'Fn::Join': ['', [`arn:aws:kms:${region}:`, { Ref: 'AWS::AccountId' }, ':alias/cortex-state']] };
}

/** Selective tables never hold a replica outside the jurisdiction their policy keeps data in. */
function expectNoReplicaOutsideJurisdiction(built: BuiltApp): void {
  const jurisdictionOf = (region: string) => built.topology.regional_compliance[region]?.jurisdiction;
  const sameJurisdiction = built.placement.policies.filter((p) => p.target === 'same_jurisdiction');
  expect(sameJurisdiction.length).toBeGreaterThan(0);
  for (const policy of sameJurisdiction) {
    for (const [writer, name] of Object.entries(policy.tableByRegion)) {
      const table = tableNamed(built, name);
      for (const replica of regionsOf(table)) {
        expect(jurisdictionOf(replica), `${name} replica in ${replica}`).toBe(jurisdictionOf(writer));
      }
      expect(regionsOf(table)).toContain(table.stackRegion);
    }
  }
}

describe('replication tables on the default topology', () => {
  let built: BuiltApp;

  beforeAll(() => {
    built = buildCortexApp();
  });

  it('adds a CortexState-<region> stack for each region homing a jurisdiction table, after its key', () => {
    expect(built.replicationStacks.map((s) => [s.stackName, s.region])).toEqual([
      ['CortexState-eu-west-1', 'eu-west-1'],
      ['CortexState-ap-south-1', 'ap-south-1'],
    ]);
    for (const stack of built.replicationStacks) {
      expect(stack.dependencies.map((d) => d.stackName)).toEqual([`CortexRegion-${stack.region}`]);
    }
  });

  it('builds no MRSC table: the three regions are in three region sets', () => {
    expect(tablesOf(built).map((t) => t.properties.TableName)).not.toContain('cortex-critical');
    for (const table of tablesOf(built)) expect(table.properties.MultiRegionConsistency).toBeUndefined();
  });

  it('gives each same_jurisdiction table exactly its jurisdiction: one region each here', () => {
    expect(regionsOf(tableNamed(built, 'cortex-sel-compliance_data_replication-united_states'))).toEqual([
      'us-east-1',
    ]);
    expect(regionsOf(tableNamed(built, 'cortex-sel-compliance_data_replication-european_union'))).toEqual([
      'eu-west-1',
    ]);
    expect(regionsOf(tableNamed(built, 'cortex-sel-compliance_data_replication-india'))).toEqual([
      'ap-south-1',
    ]);
    expectNoReplicaOutsideJurisdiction(built);
  });

  it('gives the knowledge base (all) a replica in every region and no TTL', () => {
    const kb = tableNamed(built, 'cortex-sel-knowledge_base_replication');
    expect(kb.stack).toBe('CortexState');
    expect(regionsOf(kb)).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1']);
    expect(kb.properties.TimeToLiveSpecification).toBeUndefined();
  });

  it('keys, encrypts with each region key, protects and retains every placement table like the state table', () => {
    const tables = tablesOf(built);
    expect(tables.map((t) => t.properties.TableName).sort()).toEqual(
      built.placement.tables.map((t) => t.name).sort(),
    );
    for (const table of tables) {
      expect(table.properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      });
      expect(table.resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      for (const replica of table.properties.Replicas) {
        expect(replica).toMatchObject({
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          DeletionProtectionEnabled: true,
          SSESpecification: { KMSMasterKeyId: aliasArn(replica.Region) },
        });
      }
    }
  });

  it('expires compliance records through TTL on the expiry attribute (retention_days)', () => {
    for (const name of built.placement.tables.filter((t) => t.retentionDays).map((t) => t.name)) {
      expect(tableNamed(built, name).properties.TimeToLiveSpecification).toEqual({
        AttributeName: 'expires_at',
        Enabled: true,
      });
    }
    expect(built.placement.tables.filter((t) => t.retentionDays)).toHaveLength(3);
  });

  it("expires the state table's records the plane no longer needs through TTL on the same attribute", () => {
    expect(tableNamed(built, 'cortex-state').properties.TimeToLiveSpecification).toEqual({
      AttributeName: 'expires_at',
      Enabled: true,
    });
  });

  it('denies every function role, in every regional and witness stack, any mutation of immutable tables', () => {
    const immutable = built.placement.tables.filter((t) => t.immutable);
    const arns = immutable.flatMap((t) => t.regions.map((region) => tableArn(region, t.name)));
    expect(arns).toHaveLength(3);
    const stacks = [...built.regionalStacks, ...built.witnessStacks];
    for (const stack of stacks) {
      const template = templateOf(stack);
      const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([, role]) =>
        JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
      );
      expect(roles.length).toBeGreaterThan(0);
      for (const [roleId] of roles) {
        const statements = statementsOf(template, roleId);
        const deny = statements.find((s) => s.Effect === 'Deny');
        expect(deny, `${stack.stackName} ${roleId}`).toBeDefined();
        expect(actionsOf(deny as Statement).sort()).toEqual([...IMMUTABLE_DENIED_ACTIONS].sort());
        expect(resourcesOf(deny as Statement)).toEqual(expect.arrayContaining(arns));
        // No role is allowed to mutate them either (the data API may read and put: puts are
        // conditioned on the key being absent, test/infra/data-access.test.ts, and list them; the compliance audit
        // scans them).
        for (const allow of statements.filter((s) => s.Effect === 'Allow')) {
          for (const name of immutable.map((t) => t.name)) {
            if (!JSON.stringify(allow.Resource).includes(`table/${name}`)) continue;
            for (const action of IMMUTABLE_DENIED_ACTIONS) expect(actionsOf(allow)).not.toContain(action);
            expect(
              actionsOf(allow).every((a) =>
                ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:Scan'].includes(a),
              ),
            ).toBe(true);
          }
        }
      }
    }
  });

  it('warns at synth where synchronous data lives and why (annotation and console notice)', () => {
    const warning = built.notices.find((n) =>
      n.startsWith('Replication: replication_strategies.synchronous'),
    );
    expect(warning).toContain('global table cortex-state (MREC');
    expect(warning).toContain('ap-south-1 (no set)');
    expect(warningsOf(built.stateStack)).toContainEqual(
      expect.stringMatching(/synchronous data types .* live in the global table cortex-state/),
    );
    expect(REPLICATION_NOTICE).toBe('@cortex/replication:placement');
  });
});

describe('replication tables with a jurisdiction spanning two regions', () => {
  it('replicate the jurisdiction table to exactly those regions, homed in the first', () => {
    const built = buildCortexApp({
      topology: editedTopology((json) => {
        json.regional_compliance['ap-south-1'].jurisdiction = 'european_union';
      }),
    });
    const eu = tableNamed(built, 'cortex-sel-compliance_data_replication-european_union');
    expect(eu.stack).toBe('CortexState-eu-west-1');
    expect(regionsOf(eu)).toEqual(['ap-south-1', 'eu-west-1']);
    expect(eu.properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_AND_OLD_IMAGES' });
    expectNoReplicaOutsideJurisdiction(built);
    expect(built.replicationStacks.map((s) => s.stackName)).toEqual(['CortexState-eu-west-1']);
    expect(built.replicationStacks[0]?.dependencies.map((d) => d.stackName).sort()).toEqual([
      'CortexRegion-ap-south-1',
      'CortexRegion-eu-west-1',
    ]);
  });
});

describe('replication tables with three regions in one MRSC region set', () => {
  let built: BuiltApp;
  let state: Template;

  beforeAll(() => {
    built = buildCortexApp({ topology: validateTopology(usRegionSetTopologyJson()) });
    state = templateOf(built.stateStack);
  });

  it('build the MRSC table cortex-critical for synchronous data, three replicas, no TTL', () => {
    state.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      TableName: 'cortex-critical',
      MultiRegionConsistency: 'STRONG',
      TimeToLiveSpecification: Match.absent(),
      Replicas: Match.arrayWith([Match.objectLike({ Region: 'us-east-1' })]),
    });
    expect(regionsOf(tableNamed(built, 'cortex-critical'))).toEqual(['us-east-1', 'us-east-2', 'us-west-2']);
    expect(tableNamed(built, 'cortex-state').properties.MultiRegionConsistency).toBeUndefined();
  });

  // cdk-nag for this variant is read here, from this synth (cdk-nag.test.ts has the default app).
  it('cdk-nag: report no unacknowledged error, and acknowledge nothing more than with the state table alone', () => {
    expect(built.placement.tables.map((t) => t.name)).toContain('cortex-critical');
    expect(awsSolutionsFindings(built.app, built.outdir)).toEqual([]);
    expect(stackNames(built.app)).toEqual([
      'CortexRegion-us-east-1',
      'CortexRegion-us-east-2',
      'CortexRegion-us-west-2',
      'CortexState',
      'CortexState-us-east-2',
      'CortexState-us-west-2',
      'CortexWitness-witness-ca-central-1',
    ]);
    // The MRSC replicas share each region's table key (and its alias): no new wildcard.
    expectAcknowledgedOnly(built.app, built.topology.failover_policies.health_check.endpoints);
  });

  it('warn that synchronous data is strongly consistent, and why', () => {
    expect(warningsOf(built.stateStack)).toContainEqual(
      expect.stringMatching(
        /placed in the MRSC table cortex-critical: the regions .* all in the US region set/,
      ),
    );
  });
});

describe('synth fails on a placement outside a jurisdiction', () => {
  function failure(topology: Topology): TopologyError {
    try {
      buildCortexApp({ topology });
    } catch (error) {
      if (error instanceof TopologyError) return error;
      throw error;
    }
    throw new Error('expected the synth to fail');
  }

  it('for compliance data (immutable) targeting all while eu-west-1 localizes it, naming the field', () => {
    const json = defaultTopologyJson();
    json.replication_strategies.selective.policies[1].target_regions = ['all'];
    const error = failure(validateTopology(json));
    expect(error.details[0]).toMatchObject({
      field: 'replication_strategies.selective.policies[1].target_regions',
      reason: expect.stringContaining('eu-west-1 (european_union) sets data_localization'),
    });
  });

  it('for a policy whose keys overlap a same_jurisdiction pattern, replicated across jurisdictions', () => {
    const topology = editedTopology((json) => {
      withSelectivePolicies(json, [
        ...json.replication_strategies.selective.policies,
        {
          policy_id: 'coordination_everything',
          data_pattern: 'coordination/*/*',
          replication_trigger: 'on_update',
          target_regions: ['us-east-1', 'ap-south-1'],
        },
      ]);
    });
    expect(failure(topology).details).toContainEqual({
      field: 'replication_strategies.selective.policies[2].target_regions',
      reason: expect.stringContaining('out of its jurisdiction'),
    });
  });
});

function statementsOf(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) =>
      (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })),
    )
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}
