import { controlDeps } from '../../lib/runtime/lambda.ts';
import { createDrHandler } from './handler.ts';

export const handler = createDrHandler(controlDeps());
