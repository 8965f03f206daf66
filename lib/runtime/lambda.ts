/**
 * The Lambda composition root (STYLE 2): validated environment in, adapters built once per
 * container. No network calls here: the SDK client connects on first use.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoStateAdapter } from '../adapters/aws/dynamodb-state.ts';
import type { RegionalDeps } from '../app/deps.ts';
import { openCompiledTopology } from '../core/topology/compiled.ts';

/** The topology validated at synth, inlined by esbuild `define` at bundle time (lib/infra). */
declare const CORTEX_TOPOLOGY: unknown;

export interface LambdaEnvironment {
  readonly regionId: string;
  readonly tableName: string;
}

/** Reads and checks the function's environment; a missing or malformed variable names itself. */
export function readEnvironment(env: Record<string, string | undefined>): LambdaEnvironment {
  const problems: string[] = [];
  const regionId = env.CORTEX_REGION_ID ?? '';
  const tableName = env.CORTEX_TABLE_NAME ?? '';
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(regionId))
    problems.push(`CORTEX_REGION_ID "${regionId}" is not a region id`);
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName))
    problems.push(`CORTEX_TABLE_NAME "${tableName}" is not a table name`);
  if (problems.length > 0) throw new Error(`invalid Lambda environment: ${problems.join('; ')}`);
  return Object.freeze({ regionId, tableName });
}

let cached: RegionalDeps | undefined;

export function lambdaDeps(): RegionalDeps {
  if (cached) return cached;
  const env = readEnvironment(process.env);
  if (typeof CORTEX_TOPOLOGY === 'undefined') throw new Error('topology was not bundled (CORTEX_TOPOLOGY)');
  const topology = openCompiledTopology(CORTEX_TOPOLOGY);
  if (!topology.regions.some((r) => r.region_id === env.regionId)) {
    throw new Error(`CORTEX_REGION_ID ${env.regionId} is not a region of the topology`);
  }
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
    marshallOptions: { removeUndefinedValues: true },
  });
  cached = {
    regionId: env.regionId,
    topology,
    state: new DynamoStateAdapter({ client, tableName: env.tableName }),
    clock: { now: () => Date.now() },
  };
  return cached;
}
