import { messageOf } from '../core/errors.ts';
import type { HealthPolicy } from '../core/health/evaluate.ts';
import type { ProbeObservation } from '../core/health/types.ts';
import type { Clock, ProbePort } from '../ports.ts';

/** Every endpoint of every target, concurrently, each with the policy's timeout. */
export async function probeTargets(
  probe: ProbePort,
  observer: string,
  targets: readonly string[],
  policy: HealthPolicy,
  clock: Clock,
): Promise<ProbeObservation[]> {
  const timeoutMs = policy.timeout_seconds * 1000;
  return Promise.all(
    targets.flatMap((target) =>
      policy.endpoints.map(async (endpoint): Promise<ProbeObservation> => {
        try {
          return await probe.probe(observer, target, endpoint, timeoutMs);
        } catch (error) {
          // The port promises never to throw; if an adapter does, that is still a failed call.
          return {
            observer,
            target,
            endpoint,
            ok: false,
            error: `probe error: ${messageOf(error)}`,
            latency_ms: 0,
            at: clock.now(),
          };
        }
      }),
    ),
  );
}
