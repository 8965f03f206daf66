import { opsDeps } from '../../lib/runtime/lambda.ts';
import { createDailyReportHandler } from './handler.ts';

export const handler = createDailyReportHandler(opsDeps());
