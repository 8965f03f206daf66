/**
 * The cost model against a case worked out by hand: two regions, each with a probe on a
 * once-a-minute schedule and a health function behind its API, one global table with a replica in
 * each. Prices are the price book's; the assumptions are replaced by round figures so every line
 * can be checked on paper (the comments show the arithmetic).
 */
import { describe, expect, it } from 'vitest';
import type { CostInventory, LambdaFunctionItem, Workload } from '../../lib/core/cost/inventory.ts';
import { accessLineBytes, type CostReport, estimateMonthlyCost } from '../../lib/core/cost/model.ts';
import { PRICE_BOOK, type PriceBook } from '../../lib/core/cost/price-book.ts';
import { runsPerMonth } from '../../lib/core/cost/schedule.ts';

const MINUTES = 730 * 60; // 43,800 runs of a rate(1 minute) schedule

function fn(stack: string, region: string, logicalId: string, name: string): LambdaFunctionItem {
  return {
    stack,
    logicalId,
    region,
    witness: false,
    name,
    memoryMb: 1024,
    architecture: 'arm64',
    tracing: false,
    platformLogs: false,
    applicationInfoLogs: false,
  };
}

const STACKS = [
  ['A', 'r1'],
  ['B', 'r2'],
] as const;

/** How the probe's schedule starts it: directly, through an Express driver, or through a queue of its rounds. */
function inventory(start: 'direct' | 'driver' | 'queue' = 'direct'): CostInventory {
  const driver = start === 'driver';
  return {
    regions: ['r1', 'r2'],
    stacks: ['A', 'B'],
    functions: STACKS.flatMap(([s, r]) => [fn(s, r, 'Probe', 'health-probe'), fn(s, r, 'Health', 'health')]),
    schedules: STACKS.map(([s]) => ({
      stack: s,
      logicalId: 'Every',
      expression: 'rate(1 minute)',
      ...(driver
        ? { targetStateMachine: 'Driver' }
        : start === 'queue'
          ? { targetQueue: 'Rounds', messages: 2 }
          : { targetFunction: 'Probe' }),
    })),
    queueMappings:
      start === 'queue' ? STACKS.map(([s]) => ({ stack: s, queue: 'Rounds', targetFunction: 'Probe' })) : [],
    httpApis: STACKS.map(([s]) => ({ stack: s, logicalId: 'Api', accessLogs: false })),
    routes: STACKS.map(([s]) => ({ stack: s, routeKey: 'GET /health', targetFunction: 'Health' })),
    stateMachines: driver
      ? STACKS.map(([s]) => ({
          stack: s,
          logicalId: 'Driver',
          type: 'EXPRESS' as const,
          states: 3,
          taskStates: 1,
          tracing: false,
          logLevel: 'OFF',
          taskFunctions: ['Probe'],
        }))
      : [],
    tables: [
      {
        stack: 'S',
        tableName: 'state',
        replicaRegions: ['r1', 'r2'],
        globalSecondaryIndexes: 0,
        pointInTimeRecovery: false,
        strong: false,
      },
    ],
    kmsKeys: [],
    backupRules: [],
    hostedZones: 0,
    healthChecks: [],
    dnsRecords: [],
    logGroups: [],
    alarms: [],
    metricFilters: 0,
    customMetrics: [],
    dashboards: 0,
    snsTopics: 0,
    samplingRules: [],
    stateTableName: 'state',
  };
}

const WORKLOAD: Workload = {
  probeIntervalSeconds: 30,
  probeEndpoints: ['/health'],
  probeRequests: ['/health'],
  replicationBeatSeconds: 5,
  latencySamplesPerRun: 3,
  latencyPingPath: '/api/v1/ping',
  requestsPerMonth: 0,
};

const BOOK: PriceBook = {
  ...PRICE_BOOK,
  assumptions: {
    ...PRICE_BOOK.assumptions,
    runs: {
      'health-probe': {
        work_ms: 1000,
        waits_between_rounds: true,
        rounds_every: 'probe_interval',
        reads: { fixed: 2 },
        writes: [{ item: 'probe_view', per_peer: 1 }],
        log_bytes: 0,
      },
      health: { work_ms: 100, reads: { fixed: 1 }, writes: [], log_bytes: 0 },
    },
    cold_starts_per_function_per_day: 0,
    kms_requests_per_principal_month: 10_000,
    state_table_gb: 1,
    probe_answer_bytes: 1024,
    // One write unit each: a view of 1 KB, a sample well under it.
    item_bytes: { ...PRICE_BOOK.assumptions.item_bytes, probe_view: 1024, availability_sample: 136 },
    indexed_items: [],
    events_per_region_month: 0,
  },
};

function usd(report: CostReport, service: string, item: string): number {
  const found = report.lines.find((l) => l.service === service && l.item === item);
  if (!found) throw new Error(`no line ${service} ${item}: ${report.lines.map((l) => l.item).join(', ')}`);
  return found.monthly_usd;
}

describe('the monthly cost of a small deployment, by hand', () => {
  const report = estimateMonthlyCost(inventory(), WORKLOAD, BOOK);

  it('bills a probe that waits between its rounds for the whole wait', () => {
    // floor(60 / 30) = 2 rounds: 30 s apart, the last 1 s of work: 31 s at 1 GB per invocation.
    // 2 regions x 43,800 x 31 GB-s = 2,715,600 GB-s x $0.0000133334.
    expect(usd(report, 'Lambda', 'GB-seconds: health-probe')).toBeCloseTo(36.20818, 4);
  });

  it('sends each round to every peer API and bills the function behind the route', () => {
    // 87,600 rounds per region, one /health per peer: 175,200 requests x $1 per million.
    expect(usd(report, 'API Gateway', 'HTTP API requests: peer probes')).toBeCloseTo(0.1752, 6);
    // 175,200 x 0.1 s x 1 GB = 17,520 GB-s.
    expect(usd(report, 'Lambda', 'GB-seconds: health')).toBeCloseTo(0.233601, 5);
    // 87,600 scheduled invocations + 175,200 API invocations, $0.20 per million.
    expect(usd(report, 'Lambda', 'requests')).toBeCloseTo(0.05256, 6);
  });

  it('writes every item into each replica and reads from its own', () => {
    // One view per peer per round: 175,200 items x 2 replicas x $0.625 per million.
    expect(usd(report, 'DynamoDB', 'replicated writes: health-probe')).toBeCloseTo(0.219, 6);
    // 2 per probe round (350,400) + 1 per health request (175,200), $0.125 per million.
    expect(usd(report, 'DynamoDB', 'reads')).toBeCloseTo(0.0657, 6);
    // 2 replicas x 1 GB x $0.25.
    expect(usd(report, 'DynamoDB', 'storage')).toBe(0.5);
  });

  it('counts KMS decrypts per principal and replica, and every schedule run', () => {
    // Per region: replication + 2 functions called at least every 5 minutes = 3; 6 x 10,000 x $3/million.
    expect(usd(report, 'KMS', 'requests (table key decrypts)')).toBeCloseTo(0.18, 6);
    expect(usd(report, 'EventBridge', 'Scheduler invocations')).toBeCloseTo(0.0876, 6);
  });

  it('carries each write to the other replica and each answer out of AWS', () => {
    // 175,200 items x 1 KiB to one other replica = 175,200 / 1,048,576 GB x $0.02.
    expect(usd(report, 'Data transfer', 'replication between regions')).toBeCloseTo(0.0033417, 6);
    // 175,200 answers of 1 KiB x $0.09 per GB.
    expect(usd(report, 'Data transfer', 'API answers to probes and checks')).toBeCloseTo(0.0150375, 6);
  });

  it('adds up to the hand-computed total, with nothing priced that is not deployed', () => {
    expect(report.total_usd).toBeCloseTo(37.74022, 4);
    for (const item of ['hosted zones', 'health checks', 'queries'])
      expect(usd(report, 'Route 53', item)).toBe(0);
    expect(usd(report, 'X-Ray', 'traces recorded')).toBe(0);
    expect(usd(report, 'CloudWatch', 'alarms')).toBe(0);
  });

  it('bills a driver workflow, not the function, for the waits', () => {
    const driven = estimateMonthlyCost(inventory('driver'), WORKLOAD, BOOK);
    // Each round is its own 1 s invocation: 2 x 87,600 x 1 GB-s = 175,200 GB-s.
    expect(usd(driven, 'Lambda', 'GB-seconds: health-probe')).toBeCloseTo(2.336012, 5);
    // An execution spans 31 s at 64 MB: 87,600 x 31 x 0.0625 = 169,725 GB-s x $0.00001667.
    expect(usd(driven, 'Step Functions', 'express GB-seconds')).toBeCloseTo(2.829316, 5);
    expect(usd(driven, 'Step Functions', 'express requests')).toBeCloseTo(0.0876, 6);
    // The peers see the same rounds either way.
    expect(usd(driven, 'API Gateway', 'HTTP API requests: peer probes')).toBeCloseTo(0.1752, 6);
  });

  it("traces a driven round in its workflow's trace, sampled by the rule that names the workflow", () => {
    const base = inventory('driver');
    const traced: CostInventory = {
      ...base,
      functions: base.functions.map((f) => ({ ...f, tracing: true })),
      stateMachines: base.stateMachines.map((m) => ({ ...m, name: 'driver', tracing: true })),
      samplingRules: [{ serviceName: 'driver', fixedRate: 0.02, reservoirPerSecond: 0, priority: 100 }],
    };
    const report = estimateMonthlyCost(traced, WORKLOAD, BOOK);
    // 87,600 executions x 2 % = 1,752 traces; the probes they invoke add none; the 175,200 health
    // requests (a few a minute) all fit the default rule's one-a-second reservoir.
    const line = report.lines.find((l) => l.service === 'X-Ray');
    expect(line?.quantity).toBeCloseTo(176_952, 6);
    expect(line?.monthly_usd).toBeCloseTo(0.88476, 6);
  });

  it('bills a queue of delayed rounds: each round its own invocation, the mapping’s polls and the messages', () => {
    const queued = estimateMonthlyCost(inventory('queue'), WORKLOAD, BOOK);
    // Two messages a run, each a 1 s invocation: 2 x 87,600 x 1 GB-s = 175,200 GB-s; nothing waits.
    expect(usd(queued, 'Lambda', 'GB-seconds: health-probe')).toBeCloseTo(2.336012, 5);
    // Two mappings x 5 pollers x 131,400 twenty-second polls = 1,314,000 requests x $0.40 per million.
    expect(usd(queued, 'SQS', 'requests: empty long polls')).toBeCloseTo(0.5256, 6);
    // 87,600 batches + 175,200 rounds received and deleted = 438,000 requests.
    expect(usd(queued, 'SQS', 'requests: rounds sent, received, deleted')).toBeCloseTo(0.1752, 6);
    expect(queued.lines.some((l) => l.service === 'Step Functions' && l.item.startsWith('express'))).toBe(
      false,
    );
    // The peers see the same rounds; the schedule runs as often.
    expect(usd(queued, 'API Gateway', 'HTTP API requests: peer probes')).toBeCloseTo(0.1752, 6);
    expect(usd(queued, 'EventBridge', 'Scheduler invocations')).toBeCloseTo(0.0876, 6);
  });

  it('bills each embedded-format metric for the hours it is published, and each dashboard', () => {
    const base = inventory();
    const withMetrics: CostInventory = {
      ...base,
      functions: [...base.functions, fn('A', 'r1', 'Audit', 'compliance-audit')],
      schedules: [
        ...base.schedules,
        { stack: 'A', logicalId: 'Daily', expression: 'rate(1 day)', targetFunction: 'Audit' },
      ],
      customMetrics: [
        { stack: 'A', series: 'RegionAvailability{region=r1}', publisher: 'health-probe' },
        { stack: 'B', series: 'RegionAvailability{region=r2}', publisher: 'health-probe' },
        { stack: 'A', series: 'AuditSuccessRate{region=r1}', publisher: 'compliance-audit' },
      ],
      dashboards: 1,
    };
    const report = estimateMonthlyCost(withMetrics, WORKLOAD, BOOK);
    // Two per-round metrics all month, the daily one 30.4 of 730 hours: 2.0417 x $0.30.
    const line = report.lines.find((l) => l.item === 'custom metrics: embedded metric format');
    expect(line?.quantity).toBeCloseTo(2 + 30.41667 / 730, 5);
    expect(line?.monthly_usd).toBeCloseTo(0.6125, 4);
    expect(usd(report, 'CloudWatch', 'dashboards')).toBe(3);
  });

  it('keeps a full copy of each backed-up table per backup run, for the rule’s retention', () => {
    const backedUp: CostInventory = {
      ...inventory(),
      backupRules: [{ stack: 'S', expression: 'cron(0 2 * * ? *)', deleteAfterDays: 90, tables: ['state'] }],
    };
    // One copy a night kept 90 days: 90 copies of the 1 GB table, $0.10 per GB-month.
    expect(
      usd(estimateMonthlyCost(backedUp, WORKLOAD, BOOK), 'DynamoDB', 'backups (AWS Backup)'),
    ).toBeCloseTo(9, 6);
  });

  it('takes the probe interval as an input: 10 s rounds are six a minute', () => {
    const fast = estimateMonthlyCost(inventory(), { ...WORKLOAD, probeIntervalSeconds: 10 }, BOOK);
    // 6 rounds: 50 s of waits + 1 s of work; 2 x 43,800 x 51 GB-s.
    expect(usd(fast, 'Lambda', 'GB-seconds: health-probe')).toBeCloseTo(59.56829, 4);
    expect(usd(fast, 'API Gateway', 'HTTP API requests: peer probes')).toBeCloseTo(0.5256, 6);
  });
});

describe('schedule expressions', () => {
  it('counts rate and cron runs in a 730-hour month', () => {
    expect(runsPerMonth('rate(1 minute)', 730)).toBe(MINUTES);
    expect(runsPerMonth('rate(5 minutes)', 730)).toBe(8760);
    expect(runsPerMonth('rate(1 hour)', 730)).toBe(730);
    expect(runsPerMonth('rate(1 day)', 730)).toBeCloseTo(30.4167, 4);
    expect(runsPerMonth('cron(0 12 * * ? *)', 730)).toBeCloseTo(30.4167, 4);
    expect(runsPerMonth('cron(0/15 * * * ? *)', 730)).toBeCloseTo(2920, 6);
    expect(runsPerMonth('cron(0 9 ? * MON-FRI *)', 730)).toBeCloseTo((5 * 730) / 24 / 7, 6);
    expect(runsPerMonth('cron(0 9 ? * 2-6 *)', 730)).toBeCloseTo((5 * 730) / 24 / 7, 6);
    expect(runsPerMonth('cron(30 6 1 * ? *)', 730)).toBe(1);
  });

  it('refuses an expression it cannot read, naming it', () => {
    expect(() => runsPerMonth('every minute', 730)).toThrow(/every minute/);
    expect(() => runsPerMonth('cron(0 12 * *)', 730)).toThrow(/6 fields/);
  });
});

describe('write units follow the item size', () => {
  const sized = (bytes: number, indexed: boolean): PriceBook => ({
    ...BOOK,
    assumptions: {
      ...BOOK.assumptions,
      item_bytes: { ...BOOK.assumptions.item_bytes, probe_view: bytes },
      indexed_items: indexed ? ['probe_view'] : [],
    },
  });

  it('charges a view of 2,524 bytes three units a write, and its index entry as many again', () => {
    // 175,200 views x 3 units (ceil(2,524 / 1,024)) x 2 replicas x $0.625 per million.
    const big = estimateMonthlyCost(inventory(), WORKLOAD, sized(2524, false));
    expect(usd(big, 'DynamoDB', 'replicated writes: health-probe')).toBeCloseTo(0.657, 6);
    // Exactly 1 KB is still one unit; one byte more is two.
    expect(
      usd(
        estimateMonthlyCost(inventory(), WORKLOAD, sized(1024, false)),
        'DynamoDB',
        'replicated writes: health-probe',
      ),
    ).toBeCloseTo(0.219, 6);
    expect(
      usd(
        estimateMonthlyCost(inventory(), WORKLOAD, sized(1025, false)),
        'DynamoDB',
        'replicated writes: health-probe',
      ),
    ).toBeCloseTo(0.438, 6);
    // An item carrying the index key writes its index entry too: twice the units.
    expect(
      usd(
        estimateMonthlyCost(inventory(), WORKLOAD, sized(2524, true)),
        'DynamoDB',
        'replicated writes: health-probe',
      ),
    ).toBeCloseTo(1.314, 6);
    // Replication carries the bytes: 175,200 x 2,524 bytes to the one other replica at $0.02 per GB.
    expect(usd(big, 'Data transfer', 'replication between regions')).toBeCloseTo(
      ((175_200 * 2524) / 1024 ** 3) * 0.02,
      8,
    );
  });
});

describe('writes made once a minute, whatever the rounds', () => {
  const book: PriceBook = {
    ...BOOK,
    assumptions: {
      ...BOOK.assumptions,
      runs: {
        ...BOOK.assumptions.runs,
        'health-probe': {
          ...BOOK.assumptions.runs['health-probe'],
          writes_per_minute: [{ item: 'availability_sample', fixed: 1 }],
        },
      } as PriceBook['assumptions']['runs'],
    },
  };

  it('adds one item a minute per region to the probe’s writes, run directly or by a driver, at 30 s or 10 s', () => {
    // Views 175,200 + samples 2 x 43,800 = 262,800 items x 2 replicas x $0.625 per million.
    expect(
      usd(estimateMonthlyCost(inventory(), WORKLOAD, book), 'DynamoDB', 'replicated writes: health-probe'),
    ).toBeCloseTo(0.3285, 6);
    expect(
      usd(
        estimateMonthlyCost(inventory('driver'), WORKLOAD, book),
        'DynamoDB',
        'replicated writes: health-probe',
      ),
    ).toBeCloseTo(0.3285, 6);
    // Six rounds a minute: views 525,600 + samples 87,600 = 613,200 items x 2 x $0.625 per million.
    const fast = estimateMonthlyCost(inventory(), { ...WORKLOAD, probeIntervalSeconds: 10 }, book);
    expect(usd(fast, 'DynamoDB', 'replicated writes: health-probe')).toBeCloseTo(0.7665, 6);
  });
});

describe("AWS's always-free allowances, asked for", () => {
  const list = estimateMonthlyCost(inventory(), WORKLOAD, BOOK);
  const free = estimateMonthlyCost(inventory(), WORKLOAD, BOOK, { freeTier: true });
  const off = (item: string) =>
    free.free_tier?.lines.find((l) => l.item === `free tier: ${item}`)?.monthly_usd;

  it('leaves the list price as it was, and prices nothing off unless asked', () => {
    expect(free.total_usd).toBe(list.total_usd);
    expect(free.lines).toEqual(list.lines);
    expect(list.free_tier).toBeUndefined();
  });

  it('takes each allowance off the lines it covers, never more than they hold, by hand', () => {
    // 262,800 Lambda requests, all inside the 1M: $0.05256 off.
    expect(off('Lambda requests')).toBeCloseTo(-0.05256, 8);
    // 2,733,120 GB-seconds: the first 400,000 at $0.0000133334.
    expect(off('Lambda GB-seconds')).toBeCloseTo(-400_000 * 0.0000133334, 8);
    // 87,600 Scheduler invocations inside the 14M: $0.0876 off.
    expect(off('Scheduler invocations')).toBeCloseTo(-0.0876, 8);
    // 2 GB-month of storage inside the 25: $0.50 off.
    expect(off('DynamoDB storage')).toBeCloseTo(-0.5, 8);
    // 6 principal-replicas x 10,000 decrypts: the first 20,000 at $0.03 per 10,000.
    expect(off('KMS requests')).toBeCloseTo(-0.06, 8);
    // No metric, alarm, dashboard or queue here: nothing to take off.
    for (const none of ['CloudWatch metrics', 'CloudWatch alarms', 'CloudWatch dashboards', 'SQS requests']) {
      expect(off(none), none).toBeUndefined();
    }
    const taken = free.free_tier?.lines.reduce((s, l) => s + l.monthly_usd, 0) ?? 0;
    expect(free.free_tier?.total_usd).toBeCloseTo(list.total_usd + taken, 8);
    expect(free.free_tier?.total_usd).toBeGreaterThan(0);
  });
});

describe('an access log line', () => {
  it("is the stage's format with each variable's typical value, by hand", () => {
    const a = PRICE_BOOK.assumptions;
    // {"s":"200","t":"1796315123000","x":"<16>"}: 11 + 6 + 13 + 6 + 16 + 2 characters.
    expect(
      accessLineBytes('{"s":"$context.status","t":"$context.requestTimeEpoch","x":"$context.unknown"}', a),
    ).toBe('{"s":"xxx","t":"xxxxxxxxxxxxx","x":"xxxxxxxxxxxxxxxx"}'.length);
    // No format known: the price book's figure.
    expect(accessLineBytes(undefined, a)).toBe(a.access_log_bytes_per_request);
  });
});
