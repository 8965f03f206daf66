import { functionDeps, operationsPortBuilders } from '../../lib/runtime/lambda.ts';
import { createDailyReportHandler } from './handler.ts';

export const handler = createDailyReportHandler(functionDeps('ops-daily', operationsPortBuilders));
