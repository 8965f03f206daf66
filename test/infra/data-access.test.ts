/**
 * The data API (`PUT|GET|DELETE /v1/data/{key+}`, selectively replicated data): its function reads
 * and writes only its own region's replicas of the selective tables the placement gives that region
 * (for `same_jurisdiction`, its jurisdiction's table), deletes only on mutable tables, and holds no
 * grant on the state table or the MRSC table.
 */
import { Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { CfnRoute } from 'aws-cdk-lib/aws-apigatewayv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, type ApiRoute } from '../../lib/app/routes.ts';
import type { PlacedTable } from '../../lib/core/replication/placement.ts';
import { RegionalApi } from '../../lib/infra/regional-api.ts';
import { CONCERN_ACCESS, type RegionalStack } from '../../lib/infra/regional-stack.ts';
import { IMMUTABLE_DENIED_ACTIONS } from '../../lib/infra/replication-tables.ts';
import { SelectiveReplicas } from '../../lib/infra/selective-replicas.ts';
import {
  editedTopology,
  usRegionSetTopologyJson,
  withSelectivePolicies,
} from '../fixtures/replication-topologies.ts';
import {
  type BuiltApp,
  buildCortexApp,
  logicalId,
  newApp,
  templateOf,
  useRegionalTemplates,
} from './build.ts';
import { actionsOf, arnIn, resourcesOf, type Statement, statementsOfRole } from './iam.ts';

const tableArn = (region: string, name: string) => arnIn('dynamodb', region, `table/${name}`);

/** DynamoDB actions the statements allow, by resource (JSON of the ARN), each list sorted. */
function dynamoGrants(statements: readonly Statement[]): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  for (const statement of statements.filter((s) => s.Effect === 'Allow')) {
    const actions = actionsOf(statement).filter((a) => a.startsWith('dynamodb:'));
    if (actions.length === 0) continue;
    for (const resource of resourcesOf(statement)) {
      const key = JSON.stringify(resource);
      grants[key] ??= new Set();
      for (const action of actions) grants[key].add(action);
    }
  }
  return Object.fromEntries(Object.entries(grants).map(([arn, actions]) => [arn, [...actions].sort()]));
}

/** What the data API must hold in `regionId`: its replicas of the selective tables placed there. */
function expectedGrants(tables: readonly PlacedTable[], regionId: string): Record<string, string[]> {
  return Object.fromEntries(
    tables
      .filter((t) => t.role === 'selective' && t.regions.includes(regionId))
      .flatMap((t) => [
        [
          JSON.stringify(tableArn(regionId, t.name)),
          t.immutable
            ? ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']
            : ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
        ],
        // Listings query the table's gsi1 (its keys in order).
        [JSON.stringify(tableArn(regionId, `${t.name}/index/gsi1`)), ['dynamodb:Query']],
      ]),
  );
}

function dataStatements(stack: RegionalStack, template: Template): Statement[] {
  return statementsOfRole(template, logicalId(stack.handlers.data.role.node.defaultChild));
}

const DATA_ROUTES: readonly ApiRoute[] = API_ROUTES.filter((r) => r.concern === 'data');

describe('the data API with the default topology', () => {
  const regional = useRegionalTemplates();
  const each = regional.each;

  it('is served by GET /v1/data and PUT, GET, DELETE /v1/data/{key+}, SigV4 only, to the data function', () => {
    expect(DATA_ROUTES.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'DELETE /v1/data/{key+}',
      'GET /v1/data',
      'GET /v1/data/{key+}',
      'PUT /v1/data/{key+}',
    ]);
    each((stack, template) => {
      const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route'));
      const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
      const fnId = logicalId(stack.handlers.data.function.node.defaultChild);
      for (const route of DATA_ROUTES) {
        const routeKey = `${route.method} ${route.path}`;
        const cfnRoute = routes.find((r) => r.Properties.RouteKey === routeKey);
        expect(cfnRoute?.Properties.AuthorizationType, routeKey).toBe('AWS_IAM');
        const integrationId = cfnRoute?.Properties.Target['Fn::Join'][1][1].Ref as string;
        expect(integrations[integrationId]?.Properties).toMatchObject({
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: { 'Fn::GetAtt': [fnId, 'Arn'] },
        });
      }
      // API Gateway may invoke the function for its routes (each route's own source ARN).
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).filter((p) =>
        JSON.stringify(p.Properties.FunctionName).includes(fnId),
      );
      expect(permissions.length).toBeGreaterThan(0);
      for (const permission of permissions) {
        expect(permission.Properties.Principal).toBe('apigateway.amazonaws.com');
        expect(JSON.stringify(permission.Properties.SourceArn)).toMatch(/\/\*\/\*\/v1\/data(\/\{key\+\})?"/);
      }
    });
  });

  it('may GetItem and PutItem on its region’s replica of each selective table placed there, DeleteItem only where the table is mutable, and nothing else of DynamoDB', () => {
    each((stack, template) => {
      const expected = expectedGrants(regional.built.placement.tables, stack.regionId);
      // A mutable table everywhere (the knowledge base) and this region's compliance table, each with its index.
      expect(Object.keys(expected)).toHaveLength(4);
      expect(dynamoGrants(dataStatements(stack, template))).toEqual(expected);
    });
  });

  it('holds in ap-south-1 the knowledge base and India’s compliance table, not the EU’s or the US’s', () => {
    const stack = regional.built.regionalStacks.find((s) => s.regionId === 'ap-south-1') as RegionalStack;
    const grants = dynamoGrants(dataStatements(stack, regional.template('ap-south-1')));
    expect(grants).toEqual({
      [JSON.stringify(tableArn('ap-south-1', 'cortex-sel-knowledge_base_replication'))]: [
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ],
      [JSON.stringify(tableArn('ap-south-1', 'cortex-sel-knowledge_base_replication/index/gsi1'))]: [
        'dynamodb:Query',
      ],
      [JSON.stringify(tableArn('ap-south-1', 'cortex-sel-compliance_data_replication-india'))]: [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ],
      [JSON.stringify(tableArn('ap-south-1', 'cortex-sel-compliance_data_replication-india/index/gsi1'))]: [
        'dynamodb:Query',
      ],
    });
    const allowed = dataStatements(stack, regional.template('ap-south-1')).filter(
      (s) => s.Effect === 'Allow',
    );
    expect(JSON.stringify(allowed)).not.toMatch(/european_union|united_states/);
  });

  it('queries only its tables’ gsi1 (listings); never scans, the state table or another region', () => {
    each((stack, template) => {
      const statements = dataStatements(stack, template);
      const allowed = statements.filter((s) => s.Effect === 'Allow');
      const actions = allowed.flatMap(actionsOf);
      for (const action of ['dynamodb:Scan', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem']) {
        expect(actions).not.toContain(action);
      }
      const resources = JSON.stringify(allowed.flatMap(resourcesOf));
      expect(allowed.flatMap(resourcesOf).filter((r) => JSON.stringify(r).includes('/index/')).length).toBe(
        Object.keys(expectedGrants(regional.built.placement.tables, stack.regionId)).length / 2,
      );
      expect(resources).not.toMatch(/\/index\/(?!gsi1)/);
      expect(resources).not.toContain('table/cortex-state');
      expect(resources).not.toContain('table/cortex-critical');
      for (const peer of regional.built.regionalStacks.filter((s) => s !== stack)) {
        expect(resources).not.toContain(`:${peer.regionId}:`);
      }
    });
  });

  it('is denied every mutation of the immutable tables, its own region’s included (explicit Deny)', () => {
    const immutable = regional.built.placement.tables.filter((t) => t.immutable);
    expect(immutable.map((t) => t.jurisdiction).sort()).toEqual(['european_union', 'india', 'united_states']);
    each((stack, template) => {
      const deny = dataStatements(stack, template).find((s) => s.Effect === 'Deny');
      expect(deny).toBeDefined();
      expect([...actionsOf(deny as Statement)].sort()).toEqual([...IMMUTABLE_DENIED_ACTIONS].sort());
      const denied = resourcesOf(deny as Statement).map((r) => JSON.stringify(r));
      for (const table of immutable) {
        for (const region of table.regions)
          expect(denied).toContain(JSON.stringify(tableArn(region, table.name)));
      }
    });
  });

  it('uses only its own region’s table key, through DynamoDB there, to encrypt and decrypt', () => {
    each((stack, template) => {
      const kmsStatements = dataStatements(stack, template).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('kms:')),
      );
      expect(kmsStatements).toEqual([
        {
          Effect: 'Allow',
          Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
          Resource: { 'Fn::GetAtt': [logicalId(stack.tableKey.key.node.defaultChild), 'Arn'] },
          Condition: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.regionId}.amazonaws.com` } },
        },
      ]);
    });
  });

  it('knows its region and the state table’s name (the shared composition root reads both), and nothing else', () => {
    expect(CONCERN_ACCESS.data.table).toBeUndefined();
    each((stack, template) => {
      const fn =
        template.findResources('AWS::Lambda::Function')[
          logicalId(stack.handlers.data.function.node.defaultChild)
        ];
      expect(fn?.Properties.Environment.Variables).toEqual({
        CORTEX_REGION_ID: stack.regionId,
        CORTEX_TABLE_NAME: 'cortex-state',
      });
      expect(fn?.Properties.Timeout).toBe(10);
    });
  });
});

describe('the data API with an MRSC table and a policy on two of three regions', () => {
  let built: BuiltApp;

  beforeAll(() => {
    const topology = editedTopology((json) => {
      withSelectivePolicies(json, [
        ...json.replication_strategies.selective.policies,
        {
          policy_id: 'model_cache',
          data_pattern: 'cache/*',
          replication_trigger: 'on_update',
          target_regions: ['us-east-1', 'us-west-2'],
        },
      ]);
    }, usRegionSetTopologyJson());
    built = buildCortexApp({ topology });
  });

  it('holds nothing on cortex-critical or cortex-state, and only the selective replicas of its region', () => {
    expect(built.placement.tables.map((t) => t.role)).toContain('critical');
    const cache = built.placement.tables.find((t) => t.policies.includes('model_cache'));
    expect(cache?.regions).toEqual(['us-east-1', 'us-west-2']);
    for (const stack of built.regionalStacks) {
      const statements = dataStatements(stack, templateOf(stack));
      const allowed = JSON.stringify(statements.filter((s) => s.Effect === 'Allow'));
      expect(allowed).not.toContain('table/cortex-critical');
      expect(allowed).not.toContain('table/cortex-state');
      const expected = expectedGrants(built.placement.tables, stack.regionId);
      expect(dynamoGrants(statements)).toEqual(expected);
      // The cache's table is reachable from its two regions only, each on its own replica.
      expect(Object.keys(expected).some((arn) => arn.includes('cortex-sel-model_cache'))).toBe(
        stack.regionId !== 'us-east-2',
      );
    }
  });
});

describe('SelectiveReplicas', () => {
  const table = (over: Partial<PlacedTable>): PlacedTable => ({
    name: 'cortex-sel-docs',
    role: 'selective',
    regions: ['us-east-1', 'eu-west-1'],
    homeRegion: 'us-east-1',
    consistency: 'MREC',
    immutable: false,
    dataTypes: [],
    policies: ['docs'],
    ...over,
  });

  function stackWithKey(region = 'us-east-1'): { stack: Stack; key: kms.Key } {
    const stack = new Stack(newApp().app, 'Probe', { env: { region } });
    return { stack, key: new kms.Key(stack, 'Key', { enableKeyRotation: true }) };
  }

  it('keeps only the tables with a replica in its region', () => {
    const { stack, key } = stackWithKey('eu-west-1');
    const replicas = new SelectiveReplicas(stack, 'Selective', {
      key,
      tables: [table({}), table({ name: 'cortex-sel-us', regions: ['us-east-1'], immutable: true })],
    });
    expect(replicas.replicas.map((r) => r.table.name)).toEqual(['cortex-sel-docs']);
    expect(stack.resolve(replicas.replicas[0]?.replica.tableArn)).toEqual(
      tableArn('eu-west-1', 'cortex-sel-docs'),
    );
  });

  it('refuses a table that is not selective, a table given twice, and a mutation outside `mutable`', () => {
    const { stack, key } = stackWithKey();
    expect(
      () =>
        new SelectiveReplicas(stack, 'Global', {
          key,
          tables: [table({ name: 'cortex-state', role: 'global' })],
        }),
    ).toThrow(/cortex-state is not a selective table/);
    expect(() => new SelectiveReplicas(stack, 'Twice', { key, tables: [table({}), table({})] })).toThrow(
      /given twice/,
    );
    const replicas = new SelectiveReplicas(stack, 'Ok', { key, tables: [table({})] });
    expect(() =>
      replicas.grantItemAccess(new lambda.Function(stack, 'Fn', inlineFunction()), { every: ['DeleteItem'] }),
    ).toThrow(/DeleteItem would mutate immutable tables/);
  });
});

describe('RegionalApi route paths', () => {
  const route = (path: string): ApiRoute => ({ method: 'GET', path, concern: 'data', auth: 'iam' });

  function api(path: string): RegionalApi {
    const stack = new Stack(newApp().app, 'Probe', { env: { region: 'us-east-1' } });
    const fn = new lambda.Function(stack, 'Fn', inlineFunction());
    return new RegionalApi(stack, 'Api', { apiName: 'x', routes: [route(path)], handlers: { data: fn } });
  }

  it('accepts a greedy {name+} as the last segment, as API Gateway does', () => {
    const routeKeys = api('/v1/data/{key+}')
      .node.findAll()
      .filter((c): c is CfnRoute => c instanceof CfnRoute)
      .map((r) => r.routeKey);
    expect(routeKeys).toEqual(['GET /v1/data/{key+}']);
  });

  it('refuses a greedy segment before the last, a trailing slash and a malformed segment', () => {
    expect(() => api('/v1/{key+}/data')).toThrow(/greedy \{key\+\} must be the last segment/);
    expect(() => api('/v1/data/')).toThrow(/must start with \/ and not end with \//);
    expect(() => api('/v1/da ta')).toThrow(/segment "da ta" is neither/);
    expect(() => api('/v1/{key')).toThrow(/segment "\{key" is neither/);
  });
});

function inlineFunction(): lambda.FunctionProps {
  return {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => ({});'),
  };
}
