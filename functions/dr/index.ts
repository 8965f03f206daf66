import {
  controlPortBuilders,
  documentsPort,
  functionDeps,
  replicationPort,
} from '../../lib/runtime/lambda.ts';
import { createDrHandler } from './handler.ts';

export const handler = createDrHandler(
  functionDeps('dr', { ...controlPortBuilders, replication: replicationPort, documents: documentsPort }),
);
