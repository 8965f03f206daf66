import { opsDeps } from '../../lib/runtime/lambda.ts';
import { createOpsHandler } from './handler.ts';

export const handler = createOpsHandler(opsDeps());
