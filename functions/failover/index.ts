import { controlDeps } from '../../lib/runtime/lambda.ts';
import { createFailoverHandler } from './handler.ts';

export const handler = createFailoverHandler(controlDeps());
