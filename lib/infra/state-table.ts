import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { PITR_RECOVERY_DAYS } from '../core/dr/backup-age.ts';
import { STATE_TABLE_SCHEMA } from './deployment-plan.ts';
import { acknowledgeWildcardResources } from './nag.ts';
import { StateTableKey } from './state-table-key.ts';

export interface StateTableProps {
  /** Physical name, the same in every region (`<name>-state`). */
  readonly tableName: string;
  /** Regions other than this stack's that hold a replica. */
  readonly replicaRegions: readonly string[];
  /** Alias of the per-region table key; each region's key is created by that region's stack. */
  readonly tableKeyAlias: string;
  /** Per-replica CloudWatch Contributor Insights (billed per rule). @default false */
  readonly contributorInsights?: boolean;
  /** Number attribute (epoch seconds) after which DynamoDB's TTL deletes an item. @default no TTL */
  readonly timeToLiveAttribute?: string;
  /**
   * `MRSC`: multi-Region strong consistency (exactly three replicas in one region set, see
   * lib/core/replication/placement.ts; no TTL, no transactions). @default 'MREC'
   */
  readonly consistency?: 'MREC' | 'MRSC';
}

/**
 * The shared state: one DynamoDB global table (MREC: eventually consistent, last writer wins; the
 * seed's regions are in three region sets, so MRSC is not an option) with a replica in every region.
 * Every replica is encrypted with its own region's customer managed key, named by alias ARN (see
 * StateTableKey for why).
 */
export class StateTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        'StateTable: the stack needs a concrete env.region (global table replicas are per region)',
      );
    }
    if (props.replicaRegions.includes(stack.region)) {
      throw new Error(`StateTable: replicaRegions must not contain the stack's own region ${stack.region}`);
    }
    if (new Set(props.replicaRegions).size !== props.replicaRegions.length) {
      throw new Error(`StateTable: replicaRegions has duplicates: ${props.replicaRegions.join(', ')}`);
    }
    if (props.consistency === 'MRSC' && props.timeToLiveAttribute !== undefined) {
      throw new Error('StateTable: an MRSC table cannot have a TTL attribute (DynamoDB does not support it)');
    }

    const replicaKeyArns: Record<string, string> = {};
    for (const region of props.replicaRegions) {
      replicaKeyArns[region] = StateTableKey.aliasArn(this, region, props.tableKeyAlias);
    }
    const homeKey = kms.Alias.fromAliasName(this, 'HomeRegionKey', props.tableKeyAlias);
    const gsi = STATE_TABLE_SCHEMA.globalSecondaryIndexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    }));

    this.table = new dynamodb.TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: STATE_TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: gsi,
      billing: dynamodb.Billing.onDemand(),
      // The continuous backups (docs/backups.md): the longest window, at the price of the shortest.
      pointInTimeRecoverySpecification: {
        pointInTimeRecoveryEnabled: true,
        recoveryPeriodInDays: PITR_RECOVERY_DAYS,
      },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      contributorInsightsSpecification: props.contributorInsights ? { enabled: true } : undefined,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(homeKey, replicaKeyArns),
      replicas: props.replicaRegions.map((region) => ({ region })),
      ...(props.timeToLiveAttribute !== undefined ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
      ...(props.consistency === 'MRSC'
        ? { multiRegionConsistency: dynamodb.MultiRegionConsistency.STRONG }
        : {}),
    });
  }
}

/**
 * Item-level DynamoDB actions a function may be granted; no wildcards, no table admin. Scan only for
 * the replication consistency check (it samples keys); BatchGetItem for it (it reads them back) and
 * the holds reconciler (it reads the handoffs of its holds).
 */
export type TableItemAction =
  | 'GetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'ConditionCheckItem'
  | 'Scan'
  | 'BatchGetItem';

export interface ItemAccessOptions {
  /** Only items whose partition key is one of these (`dynamodb:LeadingKeys`). @default any item */
  readonly leadingKeys?: readonly string[];
}

const WRITE_ACTIONS: ReadonlySet<TableItemAction> = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

export interface StateTableReplicaProps {
  /** The global table's physical name (the same in every region). */
  readonly tableName: string;
  /** This region's table key (created by this stack, see StateTableKey). */
  readonly key: kms.IKey;
}

/**
 * The state table as one region sees it: its local replica, referenced by deterministic name (no
 * cross-region reference to the state stack), and the key that encrypts it. Regional functions read
 * and write only their own region's replica (principle 1: failover uses the data plane of the
 * surviving regions).
 */
export class StateTableReplica extends Construct {
  readonly tableName: string;
  /** `arn:aws:dynamodb:<this region>:<account>:table/<name>`. */
  readonly tableArn: string;
  /** One ARN per GSI (`.../index/gsi1`): named, so Query needs no `index/*` wildcard. */
  readonly indexArns: readonly string[];
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: StateTableReplicaProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(`StateTableReplica: invalid DynamoDB table name ${JSON.stringify(props.tableName)}`);
    }
    const stack = Stack.of(this);
    this.tableName = props.tableName;
    this.tableArn = stack.formatArn({
      service: 'dynamodb',
      resource: 'table',
      resourceName: props.tableName,
    });
    this.indexArns = STATE_TABLE_SCHEMA.globalSecondaryIndexes.map(
      (index) => `${this.tableArn}/index/${index.indexName}`,
    );
    this.key = props.key;
  }

  /**
   * Grants exactly `actions` on this replica (Query also on its indexes) and the key use they need,
   * only through DynamoDB in this region (`kms:ViaService`).
   */
  grantItemAccess(
    grantee: iam.IGrantable,
    actions: readonly TableItemAction[],
    options: ItemAccessOptions = {},
  ): void {
    grantItemActions(grantee, this.tableArn, this.indexArns, actions, options);
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: keyActionsFor(actions),
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}

export interface RemoteStateTableReplicaProps {
  /** The global table's physical name (the same in every region). */
  readonly tableName: string;
  /** The replica's region: another topology region than this stack's. */
  readonly regionId: string;
  /** Alias of the table key in every region (DeploymentPlan.tableKeyAlias). */
  readonly tableKeyAlias: string;
}

/**
 * Another region's replica, for the few readers and writers that must reach it from here: the
 * failover's sync check reads the target's replica; a witness writes its views into every replica.
 * Named by deterministic ARN; its key, created by that region's stack, is reachable only by alias.
 */
export class RemoteStateTableReplica extends Construct {
  readonly tableName: string;
  readonly regionId: string;
  readonly tableArn: string;
  readonly indexArns: readonly string[];
  readonly tableKeyAlias: string;

  constructor(scope: Construct, id: string, props: RemoteStateTableReplicaProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      throw new Error(
        `RemoteStateTableReplica: invalid DynamoDB table name ${JSON.stringify(props.tableName)}`,
      );
    }
    if (!/^alias\/[A-Za-z0-9/_-]+$/.test(props.tableKeyAlias)) {
      throw new Error(`RemoteStateTableReplica: invalid key alias ${JSON.stringify(props.tableKeyAlias)}`);
    }
    const stack = Stack.of(this);
    this.tableName = props.tableName;
    this.regionId = props.regionId;
    this.tableKeyAlias = props.tableKeyAlias;
    this.tableArn = stack.formatArn({
      service: 'dynamodb',
      region: props.regionId,
      resource: 'table',
      resourceName: props.tableName,
    });
    this.indexArns = STATE_TABLE_SCHEMA.globalSecondaryIndexes.map(
      (index) => `${this.tableArn}/index/${index.indexName}`,
    );
  }

  /**
   * Grants exactly `actions` on that replica and its key's use through DynamoDB in that region. A
   * policy naming an alias ARN does not cover the key behind it, so the key is `key/*` narrowed to
   * the one carrying the table key alias (`kms:ResourceAliases`) and to DynamoDB there (`kms:ViaService`).
   */
  grantItemAccess(
    grantee: iam.IGrantable,
    actions: readonly TableItemAction[],
    options: ItemAccessOptions = {},
  ): void {
    grantItemActions(grantee, this.tableArn, this.indexArns, actions, options);
    const keys = Stack.of(this).formatArn({
      service: 'kms',
      region: this.regionId,
      resource: 'key',
      resourceName: '*',
    });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: keyActionsFor(actions),
        resources: [keys],
        conditions: {
          StringEquals: { 'kms:ViaService': `dynamodb.${this.regionId}.amazonaws.com` },
          'ForAnyValue:StringEquals': { 'kms:ResourceAliases': this.tableKeyAlias },
        },
      }),
    );
    if (grantee instanceof Construct) {
      acknowledgeWildcardResources(
        grantee,
        [keys],
        `The ${this.regionId} table key is created by that region's stack and known here only by its alias; a policy on the alias ARN would not cover the key. Narrowed to keys carrying ${this.tableKeyAlias} (kms:ResourceAliases) used through DynamoDB in ${this.regionId} (kms:ViaService).`,
      );
    }
  }
}

function grantItemActions(
  grantee: iam.IGrantable,
  tableArn: string,
  indexArns: readonly string[],
  actions: readonly TableItemAction[],
  options: ItemAccessOptions,
): void {
  if (actions.length === 0) throw new Error('grantItemAccess: no actions given');
  if (options.leadingKeys?.length === 0) throw new Error('grantItemAccess: leadingKeys is empty');
  const itemActions = [...new Set(actions)].map((a) => `dynamodb:${a}`);
  const conditions = options.leadingKeys
    ? { conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...options.leadingKeys] } } }
    : {};
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: itemActions, resources: [tableArn], ...conditions }),
  );
  if (actions.includes('Query')) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: [...indexArns], ...conditions }),
    );
  }
}

function keyActionsFor(actions: readonly TableItemAction[]): string[] {
  const writes = actions.some((a) => WRITE_ACTIONS.has(a));
  return writes ? ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] : ['kms:Decrypt'];
}
