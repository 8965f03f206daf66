import {
  documentsPort,
  eventsPort,
  functionDeps,
  lambdaLogContext,
  replicationPort,
} from '../../lib/runtime/lambda.ts';
import { createReplicationHandler } from './handler.ts';

export const handler = createReplicationHandler(
  functionDeps('replication', { replication: replicationPort, documents: documentsPort, events: eventsPort }),
).use(lambdaLogContext());
