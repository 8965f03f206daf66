/** The `routing` section: each weight profile's factors add up to 100. */
import type { RoutingConfig } from '../types.ts';
import { type Report, round6 } from './report.ts';

export function checkRouting(routing: RoutingConfig, report: Report): RoutingConfig {
  for (const [profile, weights] of Object.entries(routing.weights)) {
    const total = round6(weights.capacity + weights.latency + weights.compliance + weights.cost);
    if (total !== 100) {
      report(
        `routing.weights.${profile}`,
        `weights add up to ${total} (capacity ${weights.capacity} + latency ${weights.latency} + compliance ${weights.compliance} + cost ${weights.cost}); they must add up to 100`,
      );
    }
  }
  return routing;
}
