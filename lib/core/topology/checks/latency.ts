/** The `latency` section: a figure for every ordered pair of regions, and SLA targets in order. */
import type { LatencyConfig } from '../types.ts';
import { type KnownRegions, type Report, unknownRegion } from './report.ts';

export function checkLatency(latency: LatencyConfig, known: KnownRegions, report: Report): LatencyConfig {
  const field = 'latency.matrix';
  for (const [from, row] of Object.entries(latency.matrix)) {
    if (!known.ids.has(from)) {
      report(`${field}.${from}`, unknownRegion(from));
      continue;
    }
    for (const to of Object.keys(row)) {
      if (!known.ids.has(to)) report(`${field}.${from}.${to}`, unknownRegion(to));
    }
  }
  for (const from of known.list) {
    const row = latency.matrix[from];
    if (!row) {
      report(`${field}.${from}`, `no latencies from region "${from}"; every ordered pair needs a figure`);
      continue;
    }
    for (const to of known.list) {
      if (row[to] === undefined) {
        report(
          `${field}.${from}.${to}`,
          `missing latency from ${from} to ${to}; every ordered pair (a region to itself too) needs a figure`,
        );
      }
    }
  }
  checkSla(latency.sla, 'latency.sla', report);
  for (const [pair, sla] of Object.entries(latency.pair_slas ?? {})) {
    const at = `latency.pair_slas.${pair}`;
    for (const id of pair.split('->')) {
      if (!known.ids.has(id)) report(at, unknownRegion(id));
    }
    checkSla(sla, at, report);
  }
  return latency;
}

function checkSla(sla: LatencyConfig['sla'], field: string, report: Report): void {
  if (sla.p95_target_ms < sla.p50_target_ms) {
    report(
      `${field}.p95_target_ms`,
      `p95 target (${sla.p95_target_ms} ms) is below the p50 target (${sla.p50_target_ms} ms)`,
    );
  }
  if (sla.p99_target_ms < sla.p95_target_ms) {
    report(
      `${field}.p99_target_ms`,
      `p99 target (${sla.p99_target_ms} ms) is below the p95 target (${sla.p95_target_ms} ms)`,
    );
  }
}
