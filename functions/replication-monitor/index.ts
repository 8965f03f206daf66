import type { Context } from 'aws-lambda';
import { replicationDeps } from '../../lib/runtime/lambda.ts';
import { createReplicationMonitorHandler, type ReplicationMonitorInput } from './handler.ts';

/** Deps are built on first use, so a bad environment fails the invocation, not the import. */
let monitor: ReturnType<typeof createReplicationMonitorHandler> | undefined;

export const handler = (event: ReplicationMonitorInput, context: Context) => {
  monitor ??= createReplicationMonitorHandler(replicationDeps());
  return monitor(event, context);
};
