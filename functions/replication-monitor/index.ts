import type { Context } from 'aws-lambda';
import {
  documentsPort,
  eventsPort,
  functionDeps,
  lambdaObservability,
  replicationPort,
} from '../../lib/runtime/lambda.ts';
import { createReplicationMonitorHandler, type ReplicationMonitorInput } from './handler.ts';

/** Deps are built on first use, so a bad environment fails the invocation, not the import. */
let monitor: ReturnType<typeof createReplicationMonitorHandler> | undefined;

export const handler = (event: ReplicationMonitorInput, context: Context) => {
  if (!monitor) {
    const { logContext, log, metrics } = lambdaObservability();
    monitor = createReplicationMonitorHandler(
      functionDeps('replication-monitor', {
        replication: replicationPort,
        documents: documentsPort,
        events: eventsPort,
      }),
      { log, metrics },
    ).use(logContext);
  }
  return monitor(event, context);
};
