import type { Wired } from '../../lib/app/deps.ts';
import {
  controlPortBuilders,
  documentsPort,
  functionDeps,
  replicationPort,
} from '../../lib/runtime/lambda.ts';
import { createDrHandler, type DrDeps } from './handler.ts';

// Every port the runbooks' actions read when wired, or this does not compile.
const deps: Wired<Omit<DrDeps, 'mcpProbe'>> = functionDeps('dr', {
  ...controlPortBuilders,
  replication: replicationPort,
  documents: documentsPort,
});

export const handler = createDrHandler(deps);
