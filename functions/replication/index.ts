import { lambdaLogContext, replicationDeps } from '../../lib/runtime/lambda.ts';
import { createReplicationHandler } from './handler.ts';

export const handler = createReplicationHandler(replicationDeps()).use(lambdaLogContext());
