/**
 * Latency sampler figures: the cost of one sampler run of one region at 3 and 35 regions.
 *
 * Each run pings every other region `samples_per_run` times through the real HttpProbe (against one
 * loopback HTTP server standing in for every region's `/api/v1/ping`, answering at once) and reads
 * and writes the matrix in dynalite. Reported: probe requests and DynamoDB calls per run, the run's
 * median wall time here (the sampler's own cost: HTTP, statistics, store), and the run's time on a
 * real network, which is bounded by the slowest target: samples are sequential per target, targets
 * run in parallel, so about samples x the largest round trip in the region's matrix row.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoLatencyAdapter } from '../lib/adapters/aws/dynamodb-latency.ts';
import { HttpProbe } from '../lib/adapters/aws/http-probe.ts';
import { runLatencySampler } from '../lib/app/latency/sampler.ts';
import { samplingOf } from '../lib/core/latency/stats.ts';
import type { Topology } from '../lib/core/topology/types.ts';
import type { LatencyPort } from '../lib/ports.ts';
import { startTestTable } from '../test/support/dynalite.ts';

export interface SamplerCost {
  readonly regions: number;
  readonly requests: number;
  readonly store_calls: number;
  readonly wall_ms_p50: number;
  readonly network_ms: number;
}

export async function measureSamplerCost(topology: Topology, runs = 10): Promise<SamplerCost> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const table = await startTestTable();
  try {
    const ids = topology.regions.map((r) => r.region_id);
    const from = ids[0] ?? '';
    const clock = { now: () => Date.now() };
    const adapter = new DynamoLatencyAdapter({ client: table.doc, tableName: table.tableName });
    let storeCalls = 0;
    const latency: LatencyPort = {
      listLatency: () => {
        storeCalls++;
        return adapter.listLatency();
      },
      putLatency: (entry) => {
        storeCalls++;
        return adapter.putLatency(entry);
      },
    };
    const deps = {
      regionId: from,
      topology,
      clock,
      state: {} as never,
      latency,
      events: { publish: async () => {} },
      probe: new HttpProbe({ baseUrls: Object.fromEntries(ids.map((id) => [id, url])), clock }),
    };
    const times: number[] = [];
    let requests = 0;
    for (let run = 0; run < runs + 1; run++) {
      storeCalls = 0;
      const started = performance.now();
      const report = await runLatencySampler(deps);
      if (run > 0) times.push(performance.now() - started); // the first run warms up
      requests = report.requests;
    }
    times.sort((a, b) => a - b);
    const row = topology.latency.matrix[from] ?? {};
    const slowest = Math.max(...ids.filter((id) => id !== from).map((id) => row[id] ?? 0));
    return {
      regions: ids.length,
      requests,
      store_calls: storeCalls,
      wall_ms_p50: times[Math.floor(times.length / 2)] ?? Number.NaN,
      network_ms: samplingOf(topology).samples_per_run * slowest,
    };
  } finally {
    await table.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
