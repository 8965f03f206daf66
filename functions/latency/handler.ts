import type { FunctionDeps } from '../../lib/app/deps.ts';
import { ValidationError } from '../../lib/app/errors.ts';
import { readLatencyMatrix } from '../../lib/app/latency/matrix.ts';
import { LATENCY_REQUESTS } from '../../lib/app/requests/latency.ts';
import { httpHandler, json } from '../shared/http.ts';

/** `GET /v1/latency[?from=&to=]`: the matrix with sample statistics, sources and SLA verdicts. */
export function createLatencyHandler(deps: FunctionDeps<'latency'>) {
  return httpHandler(
    'latency',
    deps.log,
    {
      'GET /v1/latency': async (_event, { query }) => {
        const known = deps.topology.regions.map((r) => r.region_id);
        const issues = (['from', 'to'] as const)
          .filter((field) => query[field] !== undefined && !known.includes(query[field] as string))
          .map((field) => ({
            field,
            reason: `unknown region "${query[field]}"; known: ${known.join(', ')}`,
          }));
        if (issues.length > 0) throw new ValidationError('invalid query', issues);
        return json(200, await readLatencyMatrix(deps, query));
      },
    },
    LATENCY_REQUESTS,
  );
}
