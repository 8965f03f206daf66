import { controlDeps, lambdaObservability } from '../../lib/runtime/lambda.ts';
import { createFailoverHandler } from './handler.ts';

const { logContext, metrics } = lambdaObservability();
export const handler = createFailoverHandler(controlDeps(), { metrics }).use(logContext);
