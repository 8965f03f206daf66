import { dataDeps } from '../../lib/runtime/lambda.ts';
import { createDataHandler } from './handler.ts';

export const handler = createDataHandler(dataDeps());
