import { messageOf } from '../core/errors.ts';
import type { HealthPolicy } from '../core/health/evaluate.ts';
import type { ProbeObservation } from '../core/health/types.ts';
import type { Clock, ProbePort } from '../ports.ts';

/**
 * Every endpoint of every target, targets concurrently, each with the policy's timeout: one request
 * per target where the probe bundles the endpoints (ProbePort.probeEndpoints), else one per endpoint.
 * Either way one observation per endpoint, in the policy's order.
 */
export async function probeTargets(
  probe: ProbePort,
  observer: string,
  targets: readonly string[],
  policy: HealthPolicy,
  clock: Clock,
): Promise<ProbeObservation[]> {
  const timeoutMs = policy.timeout_seconds * 1000;
  // The port promises never to throw; if an adapter does, that is still a failed call.
  const failed = (target: string, endpoint: string, error: unknown): ProbeObservation => ({
    observer,
    target,
    endpoint,
    ok: false,
    error: `probe error: ${messageOf(error)}`,
    latency_ms: 0,
    at: clock.now(),
  });
  const rounds = await Promise.all(
    targets.map(async (target): Promise<ProbeObservation[]> => {
      if (probe.probeEndpoints) {
        try {
          return await probe.probeEndpoints(observer, target, policy.endpoints, timeoutMs);
        } catch (error) {
          return policy.endpoints.map((endpoint) => failed(target, endpoint, error));
        }
      }
      return Promise.all(
        policy.endpoints.map(async (endpoint) => {
          try {
            return await probe.probe(observer, target, endpoint, timeoutMs);
          } catch (error) {
            return failed(target, endpoint, error);
          }
        }),
      );
    }),
  );
  const observations: ProbeObservation[] = [];
  for (const round of rounds) for (const observation of round) observations.push(observation);
  return observations;
}
