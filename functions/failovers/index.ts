import { controlDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createFailoversHandler } from './handler.ts';

export const handler = createFailoversHandler(controlDeps()).use(lambdaLogContext());
