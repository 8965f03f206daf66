import { controlDeps } from '../../lib/runtime/lambda.ts';
import { createFailoversHandler } from './handler.ts';

export const handler = createFailoversHandler(controlDeps());
