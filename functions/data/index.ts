import { dataDeps, lambdaLogContext } from '../../lib/runtime/lambda.ts';
import { createDataHandler } from './handler.ts';

export const handler = createDataHandler(dataDeps()).use(lambdaLogContext());
