import { join } from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { API_ROUTES, CONCERNS, type Concern } from '../app/routes.ts';
import type { Topology } from '../core/topology/types.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import { HandlerFunction } from './handler-function.ts';
import { RegionalApi } from './regional-api.ts';
import { StateTableReplica, type TableItemAction } from './state-table.ts';
import { StateTableKey } from './state-table-key.ts';

/**
 * What each concern may do to its region's state table. The router reads region statuses and records
 * handoffs; regions and health only read. Failover steps that update status come with their issue.
 */
export const TABLE_ACCESS: Readonly<Record<Concern, readonly TableItemAction[]>> = {
  router: ['GetItem', 'Query', 'PutItem'],
  regions: ['GetItem', 'Query'],
  health: ['GetItem', 'Query'],
};

export interface RegionalStackProps extends StackProps {
  readonly plan: DeploymentPlan;
  /** The topology region this stack serves; also its env.region. */
  readonly regionId: string;
  /** The validated topology, baked into each bundle. */
  readonly topology: Topology;
  /** Absolute project root: handlers are `<projectRoot>/functions/<concern>/index.ts`. */
  readonly projectRoot: string;
}

/**
 * `CortexRegion-<region_id>`: everything one region runs on its own: its table key, a function per
 * concern reading and writing the local replica, and the HTTP API in front of them.
 */
export class RegionalStack extends Stack {
  readonly regionId: string;
  readonly tableKey: StateTableKey;
  readonly handlers: Readonly<Record<Concern, HandlerFunction>>;
  readonly api: RegionalApi;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    if (this.region !== props.regionId || !props.plan.regionIds.includes(props.regionId)) {
      throw new Error(
        `RegionalStack: regionId ${props.regionId} must be a plan region and the stack's env.region (got ${this.region})`,
      );
    }
    this.regionId = props.regionId;

    this.tableKey = new StateTableKey(this, 'StateTableKey', { aliasName: props.plan.tableKeyAlias });
    const table = new StateTableReplica(this, 'StateTable', {
      tableName: props.plan.tableName,
      key: this.tableKey.key,
    });

    const handlers = {} as Record<Concern, HandlerFunction>;
    for (const concern of CONCERNS) {
      const fn = new HandlerFunction(this, `${pascal(concern)}Handler`, {
        concern,
        entry: join(props.projectRoot, 'functions', concern, 'index.ts'),
        projectRoot: props.projectRoot,
        regionId: props.regionId,
        topology: props.topology,
      });
      fn.useStateTable(table, TABLE_ACCESS[concern]);
      handlers[concern] = fn;
    }
    this.handlers = handlers;

    this.api = new RegionalApi(this, 'Api', {
      apiName: `${props.plan.name}-${props.regionId}`,
      routes: API_ROUTES,
      handlers: Object.fromEntries(CONCERNS.map((c) => [c, handlers[c].function])),
    });
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: `Cortex API in ${props.regionId}`,
    });
  }
}

function pascal(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
