/**
 * The monthly cost of a deployment, line by line: what each resource of the inventory does in a
 * month (its schedules, the rounds its jobs run, the requests its API answers) times the price
 * book's unit prices. Pure arithmetic over plain data: the inventory says what is deployed, the
 * workload what the code's constants make it do, the price book what each unit costs and what a
 * template cannot say.
 */
import type { CostInventory, LambdaFunctionItem, StateMachineItem, Workload } from './inventory.ts';
import { type ItemKind, writeUnits } from './item-size.ts';
import type { ItemWrites, PriceBook, RunAssumption, Scaled } from './price-book.ts';
import { ratePeriodSeconds, runsPerMonth } from './schedule.ts';

export interface CostLine {
  /** `Lambda`, `DynamoDB`, `Route 53` ... */
  readonly service: string;
  /** What is counted: `GB-seconds: health-probe`. */
  readonly item: string;
  readonly quantity: number;
  /** The unit priced: `GB-second`, `request`, `key-month`. */
  readonly unit: string;
  readonly unit_usd: number;
  readonly monthly_usd: number;
  /** Where the quantity comes from, in a few words. */
  readonly basis: string;
}

export interface CostReport {
  readonly regions: readonly string[];
  readonly probe_interval_seconds: number;
  readonly requests_per_month: number;
  readonly lines: readonly CostLine[];
  /** The list-price total: the headline, free tiers not deducted. */
  readonly total_usd: number;
  /**
   * Asked for (`--free-tier`): AWS's always-free allowances as negative lines, apart from the list
   * price, and the total after them.
   */
  readonly free_tier?: { readonly lines: readonly CostLine[]; readonly total_usd: number };
  readonly price_book: { readonly name: string; readonly date: string; readonly sources: readonly string[] };
}

/** What one function does in a month. */
interface FunctionUsage {
  readonly fn: LambdaFunctionItem;
  invocations: number;
  /** Invocations a traced workflow makes: part of the workflow's trace, not traces of their own. */
  tracedUpstream: number;
  billedMs: number;
  logBytes: number;
}

/** Routes whose request counts come from a source the model knows. */
type RequestSource = 'peer probes' | 'Route 53 health checks' | 'latency samples' | 'routed tasks';

const ROUTE_PATH = '/v1/route';

export interface CostOptions {
  /** Deduct AWS's always-free allowances (price book `free_tier`), as lines of their own. */
  readonly freeTier?: boolean;
}

export function estimateMonthlyCost(
  inventory: CostInventory,
  workload: Workload,
  book: PriceBook,
  options: CostOptions = {},
): CostReport {
  const a = book.assumptions;
  const p = book.prices;
  const monthSeconds = a.month_hours * 3600;
  const regions = inventory.regions.length;
  const lines: CostLine[] = [];
  const line = (l: Omit<CostLine, 'monthly_usd'>) =>
    lines.push({ ...l, monthly_usd: l.quantity * l.unit_usd });

  const usage = new Map<string, FunctionUsage>();
  const key = (stack: string, logicalId: string) => `${stack}/${logicalId}`;
  for (const fn of inventory.functions)
    usage.set(key(fn.stack, fn.logicalId), {
      fn,
      invocations: 0,
      tracedUpstream: 0,
      billedMs: 0,
      logBytes: 0,
    });
  const assumptionOf = (name: string, task?: string): RunAssumption =>
    (task !== undefined ? a.runs[`${name}:${task}`] : undefined) ?? a.runs[name] ?? a.default_run;
  const scaled = (s: Scaled, fn: LambdaFunctionItem) =>
    (s.fixed ?? 0) +
    (s.per_peer ?? 0) * Math.max(0, regions - (fn.witness ? 0 : 1)) +
    (s.per_region ?? 0) * regions +
    (s.per_region_squared ?? 0) * regions * regions;

  // Items written to the state table (and the write units they cost, index entries included) and
  // read units, by the job or concern that does it.
  const writesBy = new Map<string, { items: number; units: number; bytes: number }>();
  let readUnits = 0;
  const indexed = new Set<ItemKind>(a.indexed_items);
  const addWrites = (name: string, fn: LambdaFunctionItem, writes: readonly ItemWrites[], times: number) => {
    const sum = writesBy.get(name) ?? { items: 0, units: 0, bytes: 0 };
    for (const w of writes) {
      const items = times * scaled(w, fn);
      const bytes = a.item_bytes[w.item];
      sum.items += items;
      sum.bytes += items * bytes;
      sum.units += items * writeUnits(bytes) * (indexed.has(w.item) ? 2 : 1);
    }
    writesBy.set(name, sum);
  };

  /** Charges `runs` runs of `fn`, each of `rounds` rounds spaced `intervalSeconds`. */
  const run = (
    fn: FunctionUsage,
    runs: number,
    job: RunAssumption,
    rounds: number,
    intervalSeconds: number,
  ) => {
    const perInvocationMs =
      job.waits_between_rounds && rounds > 1
        ? (rounds - 1) * intervalSeconds * 1000 + job.work_ms
        : rounds * job.work_ms;
    fn.invocations += runs;
    fn.billedMs += runs * Math.ceil(perInvocationMs);
    fn.logBytes +=
      runs *
      ((fn.fn.applicationInfoLogs ? job.log_bytes : 0) +
        (fn.fn.platformLogs ? a.platform_log_bytes_per_invocation : 0));
    readUnits += runs * rounds * scaled(job.reads, fn.fn);
    addWrites(fn.fn.name, fn.fn, job.writes, runs * rounds);
  };
  /** A job's once-a-minute writes over `runs` runs of `periodSeconds` each, whatever its rounds. */
  const minuteWrites = (fn: FunctionUsage, runs: number, job: RunAssumption, periodSeconds: number) => {
    if (job.writes_per_minute)
      addWrites(fn.fn.name, fn.fn, job.writes_per_minute, runs * (periodSeconds / 60));
  };

  // Schedules: each run is one invocation of its target function with the job's rounds inside, or
  // one execution of a driver workflow that invokes each of its functions once per round.
  let schedulerInvocations = 0;
  const roundsPerMonth = new Map<string, number>();
  const countRounds = (fn: FunctionUsage, rounds: number) => {
    const k = key(fn.fn.stack, fn.fn.logicalId);
    roundsPerMonth.set(k, (roundsPerMonth.get(k) ?? 0) + rounds);
  };
  /** Rounds a run of `job` holds and their spacing: lib/app/minute-rounds.ts, floor(period / interval). */
  const roundsOf = (job: RunAssumption, periodSeconds: number) => {
    const interval =
      job.rounds_every === 'probe_interval'
        ? workload.probeIntervalSeconds
        : job.rounds_every === 'replication_beat'
          ? workload.replicationBeatSeconds
          : undefined;
    return interval === undefined
      ? { rounds: 1, interval: 0 }
      : { rounds: Math.max(1, Math.floor(periodSeconds / interval)), interval };
  };
  const driverExecutions = new Map<string, { runs: number; seconds: number; rounds: number }>();
  // SQS: SendMessage(Batch) calls, and the messages a mapping receives and deletes.
  let sqsSends = 0;
  let sqsDelivered = 0;
  for (const schedule of inventory.schedules) {
    const runs = runsPerMonth(schedule.expression, a.month_hours);
    schedulerInvocations += runs;
    const period = ratePeriodSeconds(schedule.expression) ?? 60;
    const target =
      schedule.targetFunction === undefined
        ? undefined
        : usage.get(key(schedule.stack, schedule.targetFunction));
    if (target) {
      const job = assumptionOf(target.fn.name, schedule.task);
      const { rounds, interval } = roundsOf(job, period);
      run(target, runs, job, rounds, interval);
      minuteWrites(target, runs, job, period);
      countRounds(target, runs * rounds);
    }
    // A schedule that puts a minute's rounds on a queue: each message one invocation that only works.
    const mapping =
      schedule.targetQueue === undefined
        ? undefined
        : inventory.queueMappings.find((m) => m.stack === schedule.stack && m.queue === schedule.targetQueue);
    const queued = mapping === undefined ? undefined : usage.get(key(schedule.stack, mapping.targetFunction));
    if (queued) {
      const messages = schedule.messages ?? 1;
      const job = assumptionOf(queued.fn.name, schedule.task);
      run(queued, runs * messages, { ...job, waits_between_rounds: false }, 1, 0);
      minuteWrites(queued, runs, job, period);
      countRounds(queued, runs * messages);
      sqsSends += runs * Math.ceil(messages / 10);
      sqsDelivered += runs * messages;
    }
    const machine = inventory.stateMachines.find(
      (m) => m.stack === schedule.stack && m.logicalId === schedule.targetStateMachine,
    );
    if (machine) {
      let seconds = 0;
      let mostRounds = 1;
      for (const id of machine.taskFunctions) {
        const fn = usage.get(key(machine.stack, id));
        if (!fn) continue;
        const job = assumptionOf(fn.fn.name, schedule.task);
        const { rounds, interval } = roundsOf(job, period);
        // The workflow waits between rounds; each round is one invocation that only works.
        run(fn, runs * rounds, { ...job, waits_between_rounds: false }, 1, 0);
        minuteWrites(fn, runs, job, period);
        if (machine.tracing) fn.tracedUpstream += runs * rounds;
        countRounds(fn, runs * rounds);
        seconds = Math.max(seconds, ((rounds - 1) * interval * 1000 + job.work_ms) / 1000);
        mostRounds = Math.max(mostRounds, rounds);
      }
      const k = key(machine.stack, machine.logicalId);
      const before = driverExecutions.get(k) ?? { runs: 0, seconds: 0, rounds: 1 };
      driverExecutions.set(k, {
        runs: before.runs + runs,
        seconds: Math.max(before.seconds, seconds),
        rounds: Math.max(before.rounds, mostRounds),
      });
    }
  }

  // API requests: what the plane sends itself (probes, samples, Route 53's checkers) and routed tasks.
  const requests = new Map<RequestSource, number>();
  let accessLogBytes = 0;
  const apiStacks = inventory.httpApis.map((api) => api.stack);
  const request = (stack: string, path: string, count: number, source: RequestSource, method = 'GET') => {
    if (count <= 0 || !apiStacks.includes(stack)) return;
    requests.set(source, (requests.get(source) ?? 0) + count);
    const api = inventory.httpApis.find((x) => x.stack === stack);
    if (api?.accessLogs) accessLogBytes += count * accessLineBytes(api.accessLogFormat, a);
    const route =
      inventory.routes.find((r) => r.stack === stack && r.routeKey === `${method} ${path}`) ??
      inventory.routes.find((r) => r.stack === stack && r.routeKey === `ANY ${path}`);
    const target =
      route?.targetFunction === undefined ? undefined : usage.get(key(stack, route.targetFunction));
    // A route with work of its own (the probe bundle) is named `<concern>:<path>`.
    if (target) run(target, count, assumptionOf(target.fn.name, path), 1, 0);
  };
  const samplesPerRun = workload.latencySamplesPerRun;
  for (const fn of usage.values()) {
    const k = key(fn.fn.stack, fn.fn.logicalId);
    const job = assumptionOf(fn.fn.name);
    // A probe requests every endpoint of every region but its own, each round.
    if (job.rounds_every === 'probe_interval') {
      const rounds = roundsPerMonth.get(k) ?? 0;
      for (const stack of apiStacks.filter((s) => s !== fn.fn.stack))
        for (const path of workload.probeRequests) request(stack, path, rounds, 'peer probes');
    }
    if (fn.fn.name === 'latency-sampler') {
      const runs = roundsPerMonth.get(k) ?? 0;
      for (const stack of apiStacks.filter((s) => s !== fn.fn.stack))
        request(stack, workload.latencyPingPath, runs * samplesPerRun, 'latency samples');
    }
  }
  for (const check of inventory.healthChecks) {
    if (check.intervalSeconds === undefined || check.resourcePath === undefined) continue;
    request(
      check.stack,
      check.resourcePath,
      (a.route53_checkers * monthSeconds) / check.intervalSeconds,
      'Route 53 health checks',
    );
  }
  for (const stack of apiStacks)
    request(stack, ROUTE_PATH, workload.requestsPerMonth / apiStacks.length, 'routed tasks', 'POST');

  // Workflows nothing schedules (the failover workflow) run on failovers and drills: each Task state
  // calls its function once. Scheduled ones (drivers) were counted with their schedules.
  const unscheduled = inventory.stateMachines.filter((m) => !driverExecutions.has(key(m.stack, m.logicalId)));
  const executionsPerMachine =
    unscheduled.length === 0 ? 0 : a.workflow_executions_per_month / unscheduled.length;
  let transitions = 0;
  let workflowLogBytes = 0;
  // Traced executions by the X-Ray service name they are sampled under.
  const workflowExecutions: { service: string; executions: number }[] = [];
  let expressRequests = 0;
  let expressGbSeconds = 0;
  const workflowLogs: { machine: StateMachineItem; bytes: number }[] = [];
  for (const machine of inventory.stateMachines) {
    const driver = driverExecutions.get(key(machine.stack, machine.logicalId));
    const executions = driver?.runs ?? executionsPerMachine;
    // A driver's loop passes its states about once per round (an estimate; Express bills no
    // transitions, but logs them).
    const stateCount = executions * machine.states * (driver?.rounds ?? 1);
    if (machine.type === 'EXPRESS') {
      expressRequests += executions;
      expressGbSeconds += executions * (driver?.seconds ?? 1) * (a.express_memory_mb / 1024);
    } else transitions += stateCount;
    if (machine.logLevel === 'ALL') {
      const bytes = stateCount * a.workflow_log_bytes_per_transition;
      workflowLogBytes += bytes;
      workflowLogs.push({ machine, bytes });
    }
    if (machine.tracing) workflowExecutions.push({ service: machine.name ?? machine.logicalId, executions });
    if (driver) continue;
    for (const id of machine.taskFunctions) {
      const task = usage.get(key(machine.stack, id));
      if (task && machine.tracing)
        task.tracedUpstream += (executions * machine.taskStates) / machine.taskFunctions.length;
      if (task)
        run(
          task,
          (executions * machine.taskStates) / machine.taskFunctions.length,
          assumptionOf(task.fn.name),
          1,
          0,
        );
    }
  }

  // Lambda: requests, then GB-seconds by job or concern (init phases included).
  const functions = [...usage.values()];
  const totalInvocations = functions.reduce((s, f) => s + f.invocations, 0);
  line({
    service: 'Lambda',
    item: 'requests',
    quantity: totalInvocations,
    unit: 'request',
    unit_usd: p.lambda.request,
    basis: `${functions.length} functions: schedules, API requests, workflow steps`,
  });
  const coldStartMs = a.cold_starts_per_function_per_day * (a.month_hours / 24) * a.init_ms;
  for (const [name, group] of groupBy(functions, (f) => `${f.fn.name}|${f.fn.architecture}`)) {
    const [fnName, arch] = name.split('|') as [string, 'arm64' | 'x86_64'];
    // A function nothing invokes has no init phase either (and no line).
    const gbSeconds = group.reduce(
      (s, f) =>
        s + ((f.billedMs + Math.min(f.invocations * a.init_ms, coldStartMs)) / 1000) * (f.fn.memoryMb / 1024),
      0,
    );
    if (gbSeconds === 0) continue;
    const memory = [...new Set(group.map((f) => f.fn.memoryMb))].join('/');
    const perInvocation = group[0] && group[0].invocations > 0 ? group[0].billedMs / group[0].invocations : 0;
    line({
      service: 'Lambda',
      item: `GB-seconds: ${fnName}`,
      quantity: gbSeconds,
      unit: 'GB-second',
      unit_usd: p.lambda.gb_second[arch],
      basis:
        `${group.length} x ${memory} MB ${arch}, ${fmt(group.reduce((s, f) => s + f.invocations, 0) / group.length)} runs each at ${fmt(perInvocation)} ms` +
        (a.runs[fnName] ? '' : ' (no named assumption: the default run)'),
    });
  }

  // HTTP API requests, by who sends them.
  for (const source of [
    'peer probes',
    'Route 53 health checks',
    'latency samples',
    'routed tasks',
  ] as const) {
    const count = requests.get(source) ?? 0;
    if (count === 0 && source !== 'routed tasks') continue;
    line({
      service: 'API Gateway',
      item: `HTTP API requests: ${source}`,
      quantity: count,
      unit: 'request',
      unit_usd: p.http_api.request,
      basis: requestBasis(source, inventory, workload, a.route53_checkers),
    });
  }

  line({
    service: 'Step Functions',
    item: 'standard state transitions',
    quantity: transitions,
    unit: 'transition',
    unit_usd: p.step_functions.standard_transition,
    basis: `${unscheduled.length} workflows, ${fmt(a.workflow_executions_per_month)} failovers or drills a month in all`,
  });
  if (expressRequests > 0) {
    const drivers = inventory.stateMachines.filter((m) => m.type === 'EXPRESS').length;
    line({
      service: 'Step Functions',
      item: 'express requests',
      quantity: expressRequests,
      unit: 'request',
      unit_usd: p.step_functions.express_request,
      basis: `${drivers} express workflows started by schedules`,
    });
    line({
      service: 'Step Functions',
      item: 'express GB-seconds',
      quantity: expressGbSeconds,
      unit: 'GB-second',
      unit_usd: p.step_functions.express_gb_second,
      basis: `each execution spans its rounds, at ${a.express_memory_mb} MB`,
    });
  }

  // DynamoDB: every write to the state table lands in each of its replicas.
  const stateTable = inventory.tables.find((t) => t.tableName === inventory.stateTableName);
  const replicas = stateTable?.replicaRegions.length ?? 1;
  for (const [name, w] of [...writesBy]
    .filter(([, n]) => n.units > 0)
    .sort((x, y) => y[1].units - x[1].units)) {
    line({
      service: 'DynamoDB',
      item: `replicated writes: ${name}`,
      quantity: w.units * replicas,
      unit: 'rWRU',
      unit_usd: p.dynamodb.replicated_write_request_unit,
      basis: `${fmt(w.items)} items of ${fmt(w.bytes / w.items)} bytes on average, ${fmt(w.units)} units x ${replicas} replicas`,
    });
  }
  line({
    service: 'DynamoDB',
    item: 'reads',
    quantity: readUnits,
    unit: 'RRU',
    unit_usd: p.dynamodb.read_request_unit,
    basis: 'every job round and API request, from its own replica',
  });
  const replicaGb = inventory.tables.reduce(
    (s, t) =>
      s +
      t.replicaRegions.length *
        (t.tableName === inventory.stateTableName ? a.state_table_gb : a.other_table_gb),
    0,
  );
  const replicaCount = inventory.tables.reduce((s, t) => s + t.replicaRegions.length, 0);
  line({
    service: 'DynamoDB',
    item: 'storage',
    quantity: replicaGb,
    unit: 'GB-month',
    unit_usd: p.dynamodb.storage_gb_month,
    basis: `${inventory.tables.length} tables, ${replicaCount} replicas`,
  });
  const pitrGb = inventory.tables
    .filter((t) => t.pointInTimeRecovery)
    .reduce(
      (s, t) =>
        s +
        t.replicaRegions.length *
          (t.tableName === inventory.stateTableName ? a.state_table_gb : a.other_table_gb),
      0,
    );
  line({
    service: 'DynamoDB',
    item: 'point-in-time recovery',
    quantity: pitrGb,
    unit: 'GB-month',
    unit_usd: p.dynamodb.pitr_gb_month,
    basis: 'continuous backups of every replica',
  });

  // AWS Backup: each rule keeps a full copy of every table it selects per run, for its retention.
  const tableGb = (name: string) => {
    const table = inventory.tables.find((t) => t.tableName === name);
    return (
      (table?.replicaRegions.length ? 1 : 0) *
      (name === inventory.stateTableName ? a.state_table_gb : a.other_table_gb)
    );
  };
  const backupGb = inventory.backupRules.reduce((sum, rule) => {
    const runsPerDay = runsPerMonth(rule.expression, a.month_hours) / (a.month_hours / 24);
    const copies = runsPerDay * (rule.deleteAfterDays ?? a.never_expire_days);
    return sum + copies * rule.tables.reduce((n, t) => n + tableGb(t), 0);
  }, 0);
  line({
    service: 'DynamoDB',
    item: 'backups (AWS Backup)',
    quantity: backupGb,
    unit: 'GB-month',
    unit_usd: p.dynamodb.backup_gb_month,
    basis: `${inventory.backupRules.length} rules, a full copy of each table per run, kept for the rule's retention`,
  });

  // KMS: the keys, and DynamoDB's table-key decrypts (one principal per function called at least
  // every 5 minutes, plus replication, per replica region).
  line({
    service: 'KMS',
    item: 'customer managed keys',
    quantity: inventory.kmsKeys.length,
    unit: 'key-month',
    unit_usd: p.kms.key_month,
    basis: `${inventory.kmsKeys.filter((k) => k.rotation).length} rotating (each rotation adds $1 a month, twice)`,
  });
  const frequent = functions.filter((f) => f.invocations >= (a.month_hours * 60) / 5);
  let principals = 0;
  for (const region of inventory.regions) {
    principals += 1 + frequent.filter((f) => f.fn.witness || f.fn.region === region).length;
  }
  line({
    service: 'KMS',
    item: 'requests (table key decrypts)',
    quantity: principals * a.kms_requests_per_principal_month,
    unit: 'request',
    unit_usd: p.kms.request,
    basis: `${principals} principal-replicas, one decrypt each per 5 minutes`,
  });

  // Route 53.
  const endpointClass = a.route53_endpoint_class;
  line({
    service: 'Route 53',
    item: 'hosted zones',
    quantity: inventory.hostedZones,
    unit: 'zone-month',
    unit_usd: p.route53.hosted_zone_month,
    basis: inventory.hostedZones === 0 ? 'no domain: DNS skipped' : 'the service domain',
  });
  let checkUsd = 0;
  let features = 0;
  for (const check of inventory.healthChecks) {
    if (check.type === 'CALCULATED') {
      checkUsd += p.route53.calculated_health_check_month;
      continue;
    }
    const f =
      (check.type.startsWith('HTTPS') ? 1 : 0) +
      (check.type.endsWith('STR_MATCH') ? 1 : 0) +
      (check.intervalSeconds === 10 ? 1 : 0) +
      (check.measureLatency ? 1 : 0);
    features += f;
    checkUsd +=
      p.route53.health_check_month[endpointClass] + f * p.route53.health_check_feature_month[endpointClass];
  }
  line({
    service: 'Route 53',
    item: 'health checks',
    quantity: inventory.healthChecks.length,
    unit: 'check-month',
    unit_usd: inventory.healthChecks.length === 0 ? 0 : checkUsd / inventory.healthChecks.length,
    basis: `${endpointClass.replaceAll('_', ' ')} price, ${features} optional features (HTTPS, 10 s interval ...)`,
  });
  const queries =
    inventory.dnsRecords.length === 0 ? 0 : workload.requestsPerMonth * a.dns_queries_per_request;
  const charged = inventory.dnsRecords.filter((r) => !r.alias);
  const queryPrice =
    charged.length === 0
      ? p.route53.query.alias_to_aws
      : Math.max(
          ...charged.map((r) =>
            r.policy === 'latency'
              ? p.route53.query.latency
              : r.policy === 'geolocation'
                ? p.route53.query.geolocation
                : p.route53.query.simple,
          ),
        );
  line({
    service: 'Route 53',
    item: 'queries',
    quantity: queries,
    unit: 'query',
    unit_usd: queryPrice,
    basis:
      charged.length === 0 && inventory.dnsRecords.length > 0
        ? 'alias records to API Gateway: free'
        : `${a.dns_queries_per_request} per routed task`,
  });

  line({
    service: 'EventBridge',
    item: 'Scheduler invocations',
    quantity: schedulerInvocations,
    unit: 'invocation',
    unit_usd: p.scheduler.invocation,
    basis: `${inventory.schedules.length} schedules`,
  });
  if (inventory.queueMappings.length > 0 || sqsSends > 0) {
    const idlePolls =
      inventory.queueMappings.length *
      a.sqs_idle_pollers_per_mapping *
      (monthSeconds / a.sqs_long_poll_seconds);
    line({
      service: 'SQS',
      item: 'requests: empty long polls',
      quantity: idlePolls,
      unit: 'request',
      unit_usd: p.sqs.request,
      basis: `${inventory.queueMappings.length} event source mappings x ${a.sqs_idle_pollers_per_mapping} pollers, one ${a.sqs_long_poll_seconds} s poll each`,
    });
    line({
      service: 'SQS',
      item: 'requests: rounds sent, received, deleted',
      quantity: sqsSends + 2 * sqsDelivered,
      unit: 'request',
      unit_usd: p.sqs.request,
      basis: `${fmt(sqsSends)} batches of ${fmt(sqsDelivered)} rounds; each round received and deleted`,
    });
  }
  line({
    service: 'EventBridge',
    item: 'custom events',
    quantity: a.events_per_region_month * regions,
    unit: 'event',
    unit_usd: p.eventbridge.custom_event,
    basis: `${a.events_per_region_month} per region`,
  });

  // CloudWatch Logs: ingestion by source, storage as each group's retention keeps it.
  const retention = (logGroup: string | undefined, stack: string) => {
    const group = inventory.logGroups.find((g) => g.logicalId === logGroup && g.stack === stack);
    return group?.retentionDays ?? a.never_expire_days;
  };
  const days = a.month_hours / 24;
  let storedGb = 0;
  const gb = (bytes: number) => bytes / 1024 ** 3;
  let lambdaLogBytes = 0;
  for (const f of functions) {
    lambdaLogBytes += f.logBytes;
    storedGb += gb(f.logBytes) * (retention(f.fn.logGroup, f.fn.stack) / days) * a.log_compression;
  }
  for (const api of inventory.httpApis.filter((x) => x.accessLogs)) {
    storedGb +=
      gb(accessLogBytes / Math.max(1, inventory.httpApis.filter((x) => x.accessLogs).length)) *
      (retention(api.accessLogGroup, api.stack) / days) *
      a.log_compression;
  }
  for (const { machine, bytes } of workflowLogs) {
    storedGb += gb(bytes) * (retention(machine.logGroup, machine.stack) / days) * a.log_compression;
  }
  for (const [item, bytes, basis] of [
    ['log ingestion: Lambda', lambdaLogBytes, 'platform lines and each job run'],
    [
      'log ingestion: API access logs',
      accessLogBytes,
      `${fmt(accessLineBytes(inventory.httpApis.find((x) => x.accessLogs)?.accessLogFormat, a))} bytes per request (the stage's format, typical values)`,
    ],
    ['log ingestion: workflow (level ALL)', workflowLogBytes, 'every transition with its data'],
  ] as const) {
    line({
      service: 'CloudWatch',
      item,
      quantity: gb(bytes),
      unit: 'GB',
      unit_usd: p.cloudwatch.log_ingestion_gb,
      basis,
    });
  }
  line({
    service: 'CloudWatch',
    item: 'log storage',
    quantity: storedGb,
    unit: 'GB-month',
    unit_usd: p.cloudwatch.log_storage_gb_month,
    basis: `${inventory.logGroups.length} log groups at their retention, compressed ${a.log_compression}`,
  });
  // A custom metric is billed for each hour it receives data: a per-round one all month, a daily
  // one about 30 hours.
  const publishedHours = (metric: { stack: string; publisher: string }) => {
    const runs = functions
      .filter((f) => f.fn.stack === metric.stack && f.fn.name === metric.publisher)
      .reduce((n, f) => n + f.invocations, 0);
    return Math.min(a.month_hours, runs);
  };
  const emfMonths = inventory.customMetrics.reduce((n, m) => n + publishedHours(m) / a.month_hours, 0);
  line({
    service: 'CloudWatch',
    item: 'custom metrics: embedded metric format',
    quantity: emfMonths,
    unit: 'metric-month',
    unit_usd: p.cloudwatch.custom_metric_month,
    basis: `${inventory.customMetrics.length} metric and dimension sets, each for the hours it is published`,
  });
  line({
    service: 'CloudWatch',
    item: 'custom metrics: log metric filters',
    quantity: inventory.metricFilters,
    unit: 'metric-month',
    unit_usd: p.cloudwatch.custom_metric_month,
    basis: 'Lambda, API and Step Functions metrics are free',
  });
  line({
    service: 'CloudWatch',
    item: 'dashboards',
    quantity: inventory.dashboards,
    unit: 'dashboard-month',
    unit_usd: p.cloudwatch.dashboard_month,
    basis: 'global to the account',
  });
  const alarmUsd = inventory.alarms.reduce(
    (s, x) =>
      s +
      (x.composite
        ? p.cloudwatch.composite_alarm_month
        : x.metrics *
          (x.highResolution
            ? p.cloudwatch.alarm_metric_month.high_resolution
            : p.cloudwatch.alarm_metric_month.standard)),
    0,
  );
  line({
    service: 'CloudWatch',
    item: 'alarms',
    quantity: inventory.alarms.length,
    unit: 'alarm-month',
    unit_usd:
      inventory.alarms.length === 0
        ? p.cloudwatch.alarm_metric_month.standard
        : alarmUsd / inventory.alarms.length,
    basis: `${inventory.alarms.reduce((s, x) => s + x.metrics, 0)} metrics`,
  });

  // X-Ray: a trace per sampled workflow execution (the functions it invokes are in it) and per
  // sampled invocation of a traced function nothing traced calls (API Gateway HTTP APIs do not
  // trace). The stacks' rules apply to the services they name; anything else to the default rule.
  const defaultRule = {
    serviceName: '*',
    fixedRate: a.xray_default_fixed_rate,
    reservoirPerSecond: a.xray_default_reservoir_per_second,
    priority: 10_000,
  };
  const ruleFor = (service: string) =>
    [...inventory.samplingRules, defaultRule]
      .filter((r) => r.serviceName === '*' || r.serviceName === service)
      .sort((x, y) => x.priority - y.priority)[0] ?? defaultRule;
  // The reservoir is per second: a job's few calls a minute all fit in it.
  const sampled = (count: number, rule: { fixedRate: number; reservoirPerSecond: number }) => {
    const reservoir = rule.reservoirPerSecond * monthSeconds;
    return Math.min(count, reservoir) + rule.fixedRate * Math.max(0, count - reservoir);
  };
  let traces = 0;
  for (const w of workflowExecutions) traces += sampled(w.executions, ruleFor(w.service));
  const traced = functions.filter((x) => x.fn.tracing);
  for (const f of traced) traces += sampled(Math.max(0, f.invocations - f.tracedUpstream), ruleFor('*'));
  line({
    service: 'X-Ray',
    item: 'traces recorded',
    quantity: traces,
    unit: 'trace',
    unit_usd: p.xray.trace_recorded,
    basis:
      `${traced.length} traced functions, ${workflowExecutions.length} traced workflows; ` +
      `${inventory.samplingRules.length} sampling rules, else ${defaultRule.reservoirPerSecond}/s then ${defaultRule.fixedRate * 100} %`,
  });

  // Data transfer: each write travels to every other replica; the plane's own API answers leave
  // AWS through the public endpoints (peers and Route 53's checkers call them over the internet).
  const replicatedBytes = [...writesBy.values()].reduce((s, n) => s + n.bytes, 0);
  line({
    service: 'Data transfer',
    item: 'replication between regions',
    quantity: gb(replicatedBytes * Math.max(0, replicas - 1)),
    unit: 'GB',
    unit_usd: p.data_transfer.inter_region_gb,
    basis: `each item written, at its size, to ${Math.max(0, replicas - 1)} other replicas`,
  });
  const selfRequests = [...requests].filter(([s]) => s !== 'routed tasks').reduce((s, [, n]) => s + n, 0);
  line({
    service: 'Data transfer',
    item: 'API answers to probes and checks',
    quantity: gb(selfRequests * a.probe_answer_bytes),
    unit: 'GB',
    unit_usd: p.data_transfer.internet_out_gb,
    basis: `${a.probe_answer_bytes} bytes per answer`,
  });

  const total = lines.reduce((s, l) => s + l.monthly_usd, 0);
  const free = options.freeTier ? freeTierLines(lines, book.free_tier) : undefined;
  return {
    regions: inventory.regions,
    probe_interval_seconds: workload.probeIntervalSeconds,
    requests_per_month: workload.requestsPerMonth,
    lines,
    total_usd: total,
    ...(free
      ? { free_tier: { lines: free, total_usd: total + free.reduce((s, l) => s + l.monthly_usd, 0) } }
      : {}),
    price_book: { name: book.name, date: book.date, sources: book.sources },
  };
}

/**
 * AWS's always-free allowances against the lines they cover: one negative line each, for what the
 * allowance takes off (never more than the lines hold), at the prices of the lines it takes from.
 */
export function freeTierLines(lines: readonly CostLine[], free: PriceBook['free_tier']): CostLine[] {
  const allowances: readonly {
    readonly service: string;
    readonly covers: (item: string) => boolean;
    readonly allowance: number;
    readonly what: string;
  }[] = [
    {
      service: 'Lambda',
      covers: (i) => i === 'requests',
      allowance: free.lambda_requests,
      what: 'Lambda requests',
    },
    {
      service: 'Lambda',
      covers: (i) => i.startsWith('GB-seconds:'),
      allowance: free.lambda_gb_seconds,
      what: 'Lambda GB-seconds',
    },
    {
      service: 'CloudWatch',
      covers: (i) => i.startsWith('custom metrics:'),
      allowance: free.cloudwatch_metrics,
      what: 'CloudWatch metrics',
    },
    {
      service: 'CloudWatch',
      covers: (i) => i === 'alarms',
      allowance: free.cloudwatch_alarms,
      what: 'CloudWatch alarms',
    },
    {
      service: 'CloudWatch',
      covers: (i) => i === 'dashboards',
      allowance: free.cloudwatch_dashboards,
      what: 'CloudWatch dashboards',
    },
    {
      service: 'CloudWatch',
      covers: (i) => i.startsWith('log ingestion:'),
      allowance: free.cloudwatch_log_ingestion_gb,
      what: 'CloudWatch log ingestion',
    },
    {
      service: 'CloudWatch',
      covers: (i) => i === 'log storage',
      allowance: free.cloudwatch_log_storage_gb,
      what: 'CloudWatch log storage',
    },
    {
      service: 'SQS',
      covers: (i) => i.startsWith('requests'),
      allowance: free.sqs_requests,
      what: 'SQS requests',
    },
    {
      service: 'X-Ray',
      covers: (i) => i === 'traces recorded',
      allowance: free.xray_traces,
      what: 'X-Ray traces',
    },
    {
      service: 'EventBridge',
      covers: (i) => i === 'Scheduler invocations',
      allowance: free.scheduler_invocations,
      what: 'Scheduler invocations',
    },
    {
      service: 'KMS',
      covers: (i) => i.startsWith('requests'),
      allowance: free.kms_requests,
      what: 'KMS requests',
    },
    {
      service: 'DynamoDB',
      covers: (i) => i === 'storage',
      allowance: free.dynamodb_storage_gb,
      what: 'DynamoDB storage',
    },
  ];
  const out: CostLine[] = [];
  for (const { service, covers, allowance, what } of allowances) {
    const covered = lines.filter((l) => l.service === service && covers(l.item) && l.quantity > 0);
    let left = allowance;
    let taken = 0;
    let usd = 0;
    // In the lines' order: where their unit prices differ (arm64 and x86 GB-seconds) AWS does not
    // say which usage an allowance covers first.
    for (const l of covered) {
      const take = Math.min(left, l.quantity);
      left -= take;
      taken += take;
      usd += take * l.unit_usd;
    }
    if (covered.length === 0) continue;
    out.push({
      service,
      item: `free tier: ${what}`,
      quantity: -taken,
      unit: covered[0]?.unit ?? '',
      unit_usd: taken === 0 ? 0 : usd / taken,
      monthly_usd: -usd,
      basis: `${fmt(allowance)} a month always free, ${fmt(taken)} of them used here`,
    });
  }
  return out;
}

/** Bytes of one access log line: the stage's format with each `$context` variable's typical value. */
export function accessLineBytes(format: string | undefined, a: PriceBook['assumptions']): number {
  if (format === undefined) return a.access_log_bytes_per_request;
  const values = a.access_log_value_bytes;
  return format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) =>
    'x'.repeat(values[name] ?? values.default),
  ).length;
}

function requestBasis(source: RequestSource, inventory: CostInventory, workload: Workload, checkers: number) {
  switch (source) {
    case 'peer probes':
      return workload.probeRequests.length === workload.probeEndpoints.length
        ? `${workload.probeEndpoints.length} paths per peer each ${workload.probeIntervalSeconds} s round`
        : `${workload.probeRequests.length} request per peer each ${workload.probeIntervalSeconds} s round for its ${workload.probeEndpoints.length} paths (${workload.probeRequests.join(', ')})`;
    case 'Route 53 health checks':
      return `${inventory.healthChecks.length} checks x ${checkers} checkers`;
    case 'latency samples':
      return `${workload.latencySamplesPerRun} samples per peer per run`;
    case 'routed tasks':
      return `POST ${ROUTE_PATH}, spread over the regions`;
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

/** A count for a basis: whole numbers with separators, small ones with a decimal. */
function fmt(n: number): string {
  return n >= 100 || Number.isInteger(n)
    ? Math.round(n).toLocaleString('en-US')
    : n.toLocaleString('en-US', { maximumFractionDigits: 1 });
}
