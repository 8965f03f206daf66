/**
 * The monthly cost of a deployment, line by line: what each resource of the inventory does in a
 * month (its schedules, the rounds its jobs run, the requests its API answers) times the price
 * book's unit prices. Pure arithmetic over plain data: the inventory says what is deployed, the
 * workload what the code's constants make it do, the price book what each unit costs and what a
 * template cannot say.
 */
import type {
  CostInventory,
  LambdaFunctionItem,
  ScheduleItem,
  StateMachineItem,
  Workload,
} from './inventory.ts';
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

/** The monthly bill of `inventory` doing `workload`, at `book`'s prices, line by line. */
export function estimateMonthlyCost(
  inventory: CostInventory,
  workload: Workload,
  book: PriceBook,
  options: CostOptions = {},
): CostReport {
  const m = newMonth(inventory, workload, book);
  // Usage first, in this order: probes request as many rounds as the schedules ran, and a line
  // reads every source's usage. The lines then come in the order the bill prints them.
  chargeSchedules(m);
  chargeApiRequests(m);
  const workflows = chargeWorkflows(m);
  lambdaLines(m);
  apiGatewayLines(m);
  stepFunctionsLines(m, workflows);
  dynamoDbLines(m);
  backupLines(m);
  kmsLines(m);
  route53Lines(m);
  eventBridgeAndSqsLines(m);
  cloudWatchLogLines(m, workflows);
  cloudWatchMetricLines(m);
  xRayLines(m, workflows);
  dataTransferLines(m);

  const total = m.lines.reduce((s, l) => s + l.monthly_usd, 0);
  const free = options.freeTier ? freeTierLines(m.lines, book.free_tier) : undefined;
  return {
    regions: inventory.regions,
    probe_interval_seconds: workload.probeIntervalSeconds,
    requests_per_month: workload.requestsPerMonth,
    lines: m.lines,
    total_usd: total,
    ...(free
      ? { free_tier: { lines: free, total_usd: total + free.reduce((s, l) => s + l.monthly_usd, 0) } }
      : {}),
    price_book: { name: book.name, date: book.date, sources: book.sources },
  };
}

/** The month being priced: its inputs, what each function does, and the counts the lines read. */
interface Month {
  readonly inventory: CostInventory;
  readonly workload: Workload;
  readonly a: PriceBook['assumptions'];
  readonly p: PriceBook['prices'];
  readonly monthSeconds: number;
  readonly regions: number;
  readonly lines: CostLine[];
  /** Each function's usage, by `stack/logicalId`. */
  readonly usage: Map<string, FunctionUsage>;
  /**
   * Items written to the state table (and the write units they cost, index entries included), by
   * the job or concern that does it.
   */
  readonly writesBy: Map<string, { items: number; units: number; bytes: number }>;
  readonly indexed: ReadonlySet<ItemKind>;
  /** Read units, all jobs and requests together. */
  readUnits: number;
  schedulerInvocations: number;
  /** Rounds each function runs in a month, by `stack/logicalId`: what its probes and samples follow. */
  readonly roundsPerMonth: Map<string, number>;
  /** Scheduled workflows (drivers) by `stack/logicalId`: their runs, longest execution and most rounds. */
  readonly driverExecutions: Map<string, { runs: number; seconds: number; rounds: number }>;
  /** SQS: SendMessage(Batch) calls, and the messages a mapping receives and deletes. */
  sqsSends: number;
  sqsDelivered: number;
  /** The stacks that serve an HTTP API. */
  readonly apiStacks: readonly string[];
  /** HTTP API requests by who sends them. */
  readonly requests: Map<RequestSource, number>;
  accessLogBytes: number;
}

/** What the workflows do in a month, for the Step Functions, CloudWatch and X-Ray lines. */
interface WorkflowMonth {
  /** Workflows nothing schedules. */
  readonly unscheduled: number;
  readonly transitions: number;
  readonly expressRequests: number;
  readonly expressGbSeconds: number;
  readonly logBytes: number;
  readonly logs: readonly { machine: StateMachineItem; bytes: number }[];
  /** Traced executions by the X-Ray service name they are sampled under. */
  readonly tracedExecutions: readonly { service: string; executions: number }[];
}

/** An empty month for `inventory`: every function idle, every count zero. */
function newMonth(inventory: CostInventory, workload: Workload, book: PriceBook): Month {
  const a = book.assumptions;
  const usage = new Map<string, FunctionUsage>();
  for (const fn of inventory.functions)
    usage.set(key(fn.stack, fn.logicalId), {
      fn,
      invocations: 0,
      tracedUpstream: 0,
      billedMs: 0,
      logBytes: 0,
    });
  return {
    inventory,
    workload,
    a,
    p: book.prices,
    monthSeconds: a.month_hours * 3600,
    regions: inventory.regions.length,
    lines: [],
    usage,
    writesBy: new Map(),
    indexed: new Set<ItemKind>(a.indexed_items),
    readUnits: 0,
    schedulerInvocations: 0,
    roundsPerMonth: new Map(),
    driverExecutions: new Map(),
    sqsSends: 0,
    sqsDelivered: 0,
    apiStacks: inventory.httpApis.map((api) => api.stack),
    requests: new Map(),
    accessLogBytes: 0,
  };
}

/** The key of a function or workflow in the month's maps. */
function key(stack: string, logicalId: string): string {
  return `${stack}/${logicalId}`;
}

/** Adds a line to the bill, its monthly cost the quantity at the unit price. */
function line(m: Month, l: Omit<CostLine, 'monthly_usd'>): void {
  m.lines.push({ ...l, monthly_usd: l.quantity * l.unit_usd });
}

/** The run assumption for a job (its task's first, then the job's, then the default run). */
function assumptionOf(m: Month, name: string, task?: string): RunAssumption {
  return (task !== undefined ? m.a.runs[`${name}:${task}`] : undefined) ?? m.a.runs[name] ?? m.a.default_run;
}

/** A count that grows with the regions, as `fn` (a witness has no region of its own) sees them. */
function scaled(m: Month, s: Scaled, fn: LambdaFunctionItem): number {
  const regions = m.regions;
  return (
    (s.fixed ?? 0) +
    (s.per_peer ?? 0) * Math.max(0, regions - (fn.witness ? 0 : 1)) +
    (s.per_region ?? 0) * regions +
    (s.per_region_squared ?? 0) * regions * regions
  );
}

/** Counts `times` of `writes` by the job `name`: items, bytes and write units (index entries doubled). */
function addWrites(
  m: Month,
  name: string,
  fn: LambdaFunctionItem,
  writes: readonly ItemWrites[],
  times: number,
): void {
  const sum = m.writesBy.get(name) ?? { items: 0, units: 0, bytes: 0 };
  for (const w of writes) {
    const items = times * scaled(m, w, fn);
    const bytes = m.a.item_bytes[w.item];
    sum.items += items;
    sum.bytes += items * bytes;
    sum.units += items * writeUnits(bytes) * (m.indexed.has(w.item) ? 2 : 1);
  }
  m.writesBy.set(name, sum);
}

/** Charges `runs` runs of `fn`, each of `rounds` rounds spaced `intervalSeconds`. */
function run(
  m: Month,
  fn: FunctionUsage,
  runs: number,
  job: RunAssumption,
  rounds: number,
  intervalSeconds: number,
): void {
  const perInvocationMs =
    job.waits_between_rounds && rounds > 1
      ? (rounds - 1) * intervalSeconds * 1000 + job.work_ms
      : rounds * job.work_ms;
  fn.invocations += runs;
  fn.billedMs += runs * Math.ceil(perInvocationMs);
  fn.logBytes +=
    runs *
    ((fn.fn.applicationInfoLogs ? job.log_bytes : 0) +
      (fn.fn.platformLogs ? m.a.platform_log_bytes_per_invocation : 0));
  m.readUnits += runs * rounds * scaled(m, job.reads, fn.fn);
  addWrites(m, fn.fn.name, fn.fn, job.writes, runs * rounds);
}

/** A job's once-a-minute writes over `runs` runs of `periodSeconds` each, whatever its rounds. */
function minuteWrites(
  m: Month,
  fn: FunctionUsage,
  runs: number,
  job: RunAssumption,
  periodSeconds: number,
): void {
  if (job.writes_per_minute)
    addWrites(m, fn.fn.name, fn.fn, job.writes_per_minute, runs * (periodSeconds / 60));
}

/** Adds `rounds` to the rounds `fn` runs in the month. */
function countRounds(m: Month, fn: FunctionUsage, rounds: number): void {
  const k = key(fn.fn.stack, fn.fn.logicalId);
  m.roundsPerMonth.set(k, (m.roundsPerMonth.get(k) ?? 0) + rounds);
}

/** Rounds a run of `job` holds and their spacing: lib/app/minute-rounds.ts, floor(period / interval). */
function roundsOf(m: Month, job: RunAssumption, periodSeconds: number): { rounds: number; interval: number } {
  const interval =
    job.rounds_every === 'probe_interval'
      ? m.workload.probeIntervalSeconds
      : job.rounds_every === 'replication_beat'
        ? m.workload.replicationBeatSeconds
        : undefined;
  return interval === undefined
    ? { rounds: 1, interval: 0 }
    : { rounds: Math.max(1, Math.floor(periodSeconds / interval)), interval };
}

/**
 * Schedules: each run is one invocation of its target function with the job's rounds inside, a
 * queue's messages, or one execution of a driver workflow that invokes each of its functions once
 * per round.
 */
function chargeSchedules(m: Month): void {
  for (const schedule of m.inventory.schedules) {
    const runs = runsPerMonth(schedule.expression, m.a.month_hours);
    m.schedulerInvocations += runs;
    const period = ratePeriodSeconds(schedule.expression) ?? 60;
    chargeScheduledFunction(m, schedule, runs, period);
    chargeQueuedRounds(m, schedule, runs, period);
    chargeDriverWorkflow(m, schedule, runs, period);
  }
}

/** A schedule that invokes a function: each run one invocation holding the job's rounds. */
function chargeScheduledFunction(m: Month, schedule: ScheduleItem, runs: number, period: number): void {
  const target =
    schedule.targetFunction === undefined
      ? undefined
      : m.usage.get(key(schedule.stack, schedule.targetFunction));
  if (!target) return;
  const job = assumptionOf(m, target.fn.name, schedule.task);
  const { rounds, interval } = roundsOf(m, job, period);
  run(m, target, runs, job, rounds, interval);
  minuteWrites(m, target, runs, job, period);
  countRounds(m, target, runs * rounds);
}

/** A schedule that puts a minute's rounds on a queue: each message one invocation that only works. */
function chargeQueuedRounds(m: Month, schedule: ScheduleItem, runs: number, period: number): void {
  const mapping =
    schedule.targetQueue === undefined
      ? undefined
      : m.inventory.queueMappings.find((q) => q.stack === schedule.stack && q.queue === schedule.targetQueue);
  const queued = mapping === undefined ? undefined : m.usage.get(key(schedule.stack, mapping.targetFunction));
  if (!queued) return;
  const messages = schedule.messages ?? 1;
  const job = assumptionOf(m, queued.fn.name, schedule.task);
  run(m, queued, runs * messages, { ...job, waits_between_rounds: false }, 1, 0);
  minuteWrites(m, queued, runs, job, period);
  countRounds(m, queued, runs * messages);
  m.sqsSends += runs * Math.ceil(messages / 10);
  m.sqsDelivered += runs * messages;
}

/** A schedule that starts a driver workflow, which invokes each of its functions once per round. */
function chargeDriverWorkflow(m: Month, schedule: ScheduleItem, runs: number, period: number): void {
  const machine = m.inventory.stateMachines.find(
    (x) => x.stack === schedule.stack && x.logicalId === schedule.targetStateMachine,
  );
  if (!machine) return;
  let seconds = 0;
  let mostRounds = 1;
  for (const id of machine.taskFunctions) {
    const fn = m.usage.get(key(machine.stack, id));
    if (!fn) continue;
    const job = assumptionOf(m, fn.fn.name, schedule.task);
    const { rounds, interval } = roundsOf(m, job, period);
    // The workflow waits between rounds; each round is one invocation that only works.
    run(m, fn, runs * rounds, { ...job, waits_between_rounds: false }, 1, 0);
    minuteWrites(m, fn, runs, job, period);
    if (machine.tracing) fn.tracedUpstream += runs * rounds;
    countRounds(m, fn, runs * rounds);
    seconds = Math.max(seconds, ((rounds - 1) * interval * 1000 + job.work_ms) / 1000);
    mostRounds = Math.max(mostRounds, rounds);
  }
  const k = key(machine.stack, machine.logicalId);
  const before = m.driverExecutions.get(k) ?? { runs: 0, seconds: 0, rounds: 1 };
  m.driverExecutions.set(k, {
    runs: before.runs + runs,
    seconds: Math.max(before.seconds, seconds),
    rounds: Math.max(before.rounds, mostRounds),
  });
}

/** Counts `count` requests to `method path` on `stack`'s API: its access log lines and the work its route runs. */
function request(
  m: Month,
  stack: string,
  path: string,
  count: number,
  source: RequestSource,
  method = 'GET',
): void {
  if (count <= 0 || !m.apiStacks.includes(stack)) return;
  m.requests.set(source, (m.requests.get(source) ?? 0) + count);
  const api = m.inventory.httpApis.find((x) => x.stack === stack);
  if (api?.accessLogs) m.accessLogBytes += count * accessLineBytes(api.accessLogFormat, m.a);
  const route =
    m.inventory.routes.find((r) => r.stack === stack && r.routeKey === `${method} ${path}`) ??
    m.inventory.routes.find((r) => r.stack === stack && r.routeKey === `ANY ${path}`);
  const target =
    route?.targetFunction === undefined ? undefined : m.usage.get(key(stack, route.targetFunction));
  // A route with work of its own (the probe bundle) is named `<concern>:<path>`.
  if (target) run(m, target, count, assumptionOf(m, target.fn.name, path), 1, 0);
}

/** API requests: what the plane sends itself (probes, samples, Route 53's checkers) and routed tasks. */
function chargeApiRequests(m: Month): void {
  const { workload, a, apiStacks } = m;
  const samplesPerRun = workload.latencySamplesPerRun;
  for (const fn of m.usage.values()) {
    const k = key(fn.fn.stack, fn.fn.logicalId);
    const job = assumptionOf(m, fn.fn.name);
    // A probe requests every endpoint of every region but its own, each round.
    if (job.rounds_every === 'probe_interval') {
      const rounds = m.roundsPerMonth.get(k) ?? 0;
      for (const stack of apiStacks.filter((s) => s !== fn.fn.stack))
        for (const path of workload.probeRequests) request(m, stack, path, rounds, 'peer probes');
    }
    if (fn.fn.name === 'latency-sampler') {
      const runs = m.roundsPerMonth.get(k) ?? 0;
      for (const stack of apiStacks.filter((s) => s !== fn.fn.stack))
        request(m, stack, workload.latencyPingPath, runs * samplesPerRun, 'latency samples');
    }
  }
  for (const check of m.inventory.healthChecks) {
    if (check.intervalSeconds === undefined || check.resourcePath === undefined) continue;
    request(
      m,
      check.stack,
      check.resourcePath,
      (a.route53_checkers * m.monthSeconds) / check.intervalSeconds,
      'Route 53 health checks',
    );
  }
  for (const stack of apiStacks)
    request(m, stack, ROUTE_PATH, workload.requestsPerMonth / apiStacks.length, 'routed tasks', 'POST');
}

/**
 * Workflows nothing schedules (the failover workflow) run on failovers and drills: each Task state
 * calls its function once. Scheduled ones (drivers) were counted with their schedules.
 */
function chargeWorkflows(m: Month): WorkflowMonth {
  const { inventory, a } = m;
  const unscheduled = inventory.stateMachines.filter(
    (x) => !m.driverExecutions.has(key(x.stack, x.logicalId)),
  );
  const executionsPerMachine =
    unscheduled.length === 0 ? 0 : a.workflow_executions_per_month / unscheduled.length;
  let transitions = 0;
  let logBytes = 0;
  const tracedExecutions: { service: string; executions: number }[] = [];
  let expressRequests = 0;
  let expressGbSeconds = 0;
  const logs: { machine: StateMachineItem; bytes: number }[] = [];
  for (const machine of inventory.stateMachines) {
    const driver = m.driverExecutions.get(key(machine.stack, machine.logicalId));
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
      logBytes += bytes;
      logs.push({ machine, bytes });
    }
    if (machine.tracing) tracedExecutions.push({ service: machine.name ?? machine.logicalId, executions });
    if (!driver) chargeTaskStates(m, machine, executions);
  }
  return {
    unscheduled: unscheduled.length,
    transitions,
    expressRequests,
    expressGbSeconds,
    logBytes,
    logs,
    tracedExecutions,
  };
}

/** An unscheduled workflow's `executions`: its Task states' calls, spread over the functions they call. */
function chargeTaskStates(m: Month, machine: StateMachineItem, executions: number): void {
  for (const id of machine.taskFunctions) {
    const task = m.usage.get(key(machine.stack, id));
    if (task && machine.tracing)
      task.tracedUpstream += (executions * machine.taskStates) / machine.taskFunctions.length;
    if (task)
      run(
        m,
        task,
        (executions * machine.taskStates) / machine.taskFunctions.length,
        assumptionOf(m, task.fn.name),
        1,
        0,
      );
  }
}

/** Lambda: requests, then GB-seconds by job or concern (init phases included). */
function lambdaLines(m: Month): void {
  const { a, p } = m;
  const functions = [...m.usage.values()];
  const totalInvocations = functions.reduce((s, f) => s + f.invocations, 0);
  line(m, {
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
    line(m, {
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
}

/** HTTP API requests, by who sends them. */
function apiGatewayLines(m: Month): void {
  for (const source of [
    'peer probes',
    'Route 53 health checks',
    'latency samples',
    'routed tasks',
  ] as const) {
    const count = m.requests.get(source) ?? 0;
    if (count === 0 && source !== 'routed tasks') continue;
    line(m, {
      service: 'API Gateway',
      item: `HTTP API requests: ${source}`,
      quantity: count,
      unit: 'request',
      unit_usd: m.p.http_api.request,
      basis: requestBasis(source, m.inventory, m.workload, m.a.route53_checkers),
    });
  }
}

/** Step Functions: standard transitions, and express requests and GB-seconds when a driver runs. */
function stepFunctionsLines(m: Month, workflows: WorkflowMonth): void {
  const { a, p } = m;
  line(m, {
    service: 'Step Functions',
    item: 'standard state transitions',
    quantity: workflows.transitions,
    unit: 'transition',
    unit_usd: p.step_functions.standard_transition,
    basis: `${workflows.unscheduled} workflows, ${fmt(a.workflow_executions_per_month)} failovers or drills a month in all`,
  });
  if (workflows.expressRequests > 0) {
    const drivers = m.inventory.stateMachines.filter((x) => x.type === 'EXPRESS').length;
    line(m, {
      service: 'Step Functions',
      item: 'express requests',
      quantity: workflows.expressRequests,
      unit: 'request',
      unit_usd: p.step_functions.express_request,
      basis: `${drivers} express workflows started by schedules`,
    });
    line(m, {
      service: 'Step Functions',
      item: 'express GB-seconds',
      quantity: workflows.expressGbSeconds,
      unit: 'GB-second',
      unit_usd: p.step_functions.express_gb_second,
      basis: `each execution spans its rounds, at ${a.express_memory_mb} MB`,
    });
  }
}

/** Replicas of the state table: every write to it lands in each. */
function stateReplicas(inventory: CostInventory): number {
  const stateTable = inventory.tables.find((t) => t.tableName === inventory.stateTableName);
  return stateTable?.replicaRegions.length ?? 1;
}

/** A table's assumed size in one replica. */
function tableReplicaGb(m: Month, tableName: string): number {
  return tableName === m.inventory.stateTableName ? m.a.state_table_gb : m.a.other_table_gb;
}

/** DynamoDB: replicated writes by job, reads, storage and point-in-time recovery of every replica. */
function dynamoDbLines(m: Month): void {
  const { inventory, p } = m;
  const replicas = stateReplicas(inventory);
  for (const [name, w] of [...m.writesBy]
    .filter(([, n]) => n.units > 0)
    .sort((x, y) => y[1].units - x[1].units)) {
    line(m, {
      service: 'DynamoDB',
      item: `replicated writes: ${name}`,
      quantity: w.units * replicas,
      unit: 'rWRU',
      unit_usd: p.dynamodb.replicated_write_request_unit,
      basis: `${fmt(w.items)} items of ${fmt(w.bytes / w.items)} bytes on average, ${fmt(w.units)} units x ${replicas} replicas`,
    });
  }
  line(m, {
    service: 'DynamoDB',
    item: 'reads',
    quantity: m.readUnits,
    unit: 'RRU',
    unit_usd: p.dynamodb.read_request_unit,
    basis: 'every job round and API request, from its own replica',
  });
  const replicaGb = inventory.tables.reduce(
    (s, t) => s + t.replicaRegions.length * tableReplicaGb(m, t.tableName),
    0,
  );
  const replicaCount = inventory.tables.reduce((s, t) => s + t.replicaRegions.length, 0);
  line(m, {
    service: 'DynamoDB',
    item: 'storage',
    quantity: replicaGb,
    unit: 'GB-month',
    unit_usd: p.dynamodb.storage_gb_month,
    basis: `${inventory.tables.length} tables, ${replicaCount} replicas`,
  });
  const pitrGb = inventory.tables
    .filter((t) => t.pointInTimeRecovery)
    .reduce((s, t) => s + t.replicaRegions.length * tableReplicaGb(m, t.tableName), 0);
  line(m, {
    service: 'DynamoDB',
    item: 'point-in-time recovery',
    quantity: pitrGb,
    unit: 'GB-month',
    unit_usd: p.dynamodb.pitr_gb_month,
    basis: 'continuous backups of every replica',
  });
}

/** AWS Backup: each rule keeps a full copy of every table it selects per run, for its retention. */
function backupLines(m: Month): void {
  const { inventory, a } = m;
  const tableGb = (name: string) => {
    const table = inventory.tables.find((t) => t.tableName === name);
    return (table?.replicaRegions.length ? 1 : 0) * tableReplicaGb(m, name);
  };
  const backupGb = inventory.backupRules.reduce((sum, rule) => {
    const runsPerDay = runsPerMonth(rule.expression, a.month_hours) / (a.month_hours / 24);
    const copies = runsPerDay * (rule.deleteAfterDays ?? a.never_expire_days);
    return sum + copies * rule.tables.reduce((n, t) => n + tableGb(t), 0);
  }, 0);
  line(m, {
    service: 'DynamoDB',
    item: 'backups (AWS Backup)',
    quantity: backupGb,
    unit: 'GB-month',
    unit_usd: m.p.dynamodb.backup_gb_month,
    basis: `${inventory.backupRules.length} rules, a full copy of each table per run, kept for the rule's retention`,
  });
}

/**
 * KMS: the keys, and DynamoDB's table-key decrypts (one principal per function called at least
 * every 5 minutes, plus replication, per replica region).
 */
function kmsLines(m: Month): void {
  const { inventory, a, p } = m;
  line(m, {
    service: 'KMS',
    item: 'customer managed keys',
    quantity: inventory.kmsKeys.length,
    unit: 'key-month',
    unit_usd: p.kms.key_month,
    basis: `${inventory.kmsKeys.filter((k) => k.rotation).length} rotating (each rotation adds $1 a month, twice)`,
  });
  const frequent = [...m.usage.values()].filter((f) => f.invocations >= (a.month_hours * 60) / 5);
  let principals = 0;
  for (const region of inventory.regions) {
    principals += 1 + frequent.filter((f) => f.fn.witness || f.fn.region === region).length;
  }
  line(m, {
    service: 'KMS',
    item: 'requests (table key decrypts)',
    quantity: principals * a.kms_requests_per_principal_month,
    unit: 'request',
    unit_usd: p.kms.request,
    basis: `${principals} principal-replicas, one decrypt each per 5 minutes`,
  });
}

/** Route 53: the hosted zone, the health checks with their optional features, and the queries. */
function route53Lines(m: Month): void {
  const { inventory, workload, a, p } = m;
  const endpointClass = a.route53_endpoint_class;
  line(m, {
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
  line(m, {
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
  line(m, {
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
}

/** EventBridge's Scheduler invocations and custom events, with the SQS requests of queued rounds between them. */
function eventBridgeAndSqsLines(m: Month): void {
  const { inventory, a, p } = m;
  line(m, {
    service: 'EventBridge',
    item: 'Scheduler invocations',
    quantity: m.schedulerInvocations,
    unit: 'invocation',
    unit_usd: p.scheduler.invocation,
    basis: `${inventory.schedules.length} schedules`,
  });
  if (inventory.queueMappings.length > 0 || m.sqsSends > 0) {
    const idlePolls =
      inventory.queueMappings.length *
      a.sqs_idle_pollers_per_mapping *
      (m.monthSeconds / a.sqs_long_poll_seconds);
    line(m, {
      service: 'SQS',
      item: 'requests: empty long polls',
      quantity: idlePolls,
      unit: 'request',
      unit_usd: p.sqs.request,
      basis: `${inventory.queueMappings.length} event source mappings x ${a.sqs_idle_pollers_per_mapping} pollers, one ${a.sqs_long_poll_seconds} s poll each`,
    });
    line(m, {
      service: 'SQS',
      item: 'requests: rounds sent, received, deleted',
      quantity: m.sqsSends + 2 * m.sqsDelivered,
      unit: 'request',
      unit_usd: p.sqs.request,
      basis: `${fmt(m.sqsSends)} batches of ${fmt(m.sqsDelivered)} rounds; each round received and deleted`,
    });
  }
  line(m, {
    service: 'EventBridge',
    item: 'custom events',
    quantity: a.events_per_region_month * m.regions,
    unit: 'event',
    unit_usd: p.eventbridge.custom_event,
    basis: `${a.events_per_region_month} per region`,
  });
}

/** CloudWatch Logs: ingestion by source, storage as each group's retention keeps it. */
function cloudWatchLogLines(m: Month, workflows: WorkflowMonth): void {
  const { inventory, a, p } = m;
  const retention = (logGroup: string | undefined, stack: string) => {
    const group = inventory.logGroups.find((g) => g.logicalId === logGroup && g.stack === stack);
    return group?.retentionDays ?? a.never_expire_days;
  };
  const days = a.month_hours / 24;
  let storedGb = 0;
  let lambdaLogBytes = 0;
  for (const f of m.usage.values()) {
    lambdaLogBytes += f.logBytes;
    storedGb += gb(f.logBytes) * (retention(f.fn.logGroup, f.fn.stack) / days) * a.log_compression;
  }
  for (const api of inventory.httpApis.filter((x) => x.accessLogs)) {
    storedGb +=
      gb(m.accessLogBytes / Math.max(1, inventory.httpApis.filter((x) => x.accessLogs).length)) *
      (retention(api.accessLogGroup, api.stack) / days) *
      a.log_compression;
  }
  for (const { machine, bytes } of workflows.logs) {
    storedGb += gb(bytes) * (retention(machine.logGroup, machine.stack) / days) * a.log_compression;
  }
  for (const [item, bytes, basis] of [
    ['log ingestion: Lambda', lambdaLogBytes, 'platform lines and each job run'],
    [
      'log ingestion: API access logs',
      m.accessLogBytes,
      `${fmt(accessLineBytes(inventory.httpApis.find((x) => x.accessLogs)?.accessLogFormat, a))} bytes per request (the stage's format, typical values)`,
    ],
    ['log ingestion: workflow (level ALL)', workflows.logBytes, 'every transition with its data'],
  ] as const) {
    line(m, {
      service: 'CloudWatch',
      item,
      quantity: gb(bytes),
      unit: 'GB',
      unit_usd: p.cloudwatch.log_ingestion_gb,
      basis,
    });
  }
  line(m, {
    service: 'CloudWatch',
    item: 'log storage',
    quantity: storedGb,
    unit: 'GB-month',
    unit_usd: p.cloudwatch.log_storage_gb_month,
    basis: `${inventory.logGroups.length} log groups at their retention, compressed ${a.log_compression}`,
  });
}

/** CloudWatch's custom metrics (embedded and from log filters), dashboards and alarms. */
function cloudWatchMetricLines(m: Month): void {
  const { inventory, a, p } = m;
  const functions = [...m.usage.values()];
  // A custom metric is billed for each hour it receives data: a per-round one all month, a daily
  // one about 30 hours.
  const publishedHours = (metric: { stack: string; publisher: string }) => {
    const runs = functions
      .filter((f) => f.fn.stack === metric.stack && f.fn.name === metric.publisher)
      .reduce((n, f) => n + f.invocations, 0);
    return Math.min(a.month_hours, runs);
  };
  const emfMonths = inventory.customMetrics.reduce((n, x) => n + publishedHours(x) / a.month_hours, 0);
  line(m, {
    service: 'CloudWatch',
    item: 'custom metrics: embedded metric format',
    quantity: emfMonths,
    unit: 'metric-month',
    unit_usd: p.cloudwatch.custom_metric_month,
    basis: `${inventory.customMetrics.length} metric and dimension sets, each for the hours it is published`,
  });
  line(m, {
    service: 'CloudWatch',
    item: 'custom metrics: log metric filters',
    quantity: inventory.metricFilters,
    unit: 'metric-month',
    unit_usd: p.cloudwatch.custom_metric_month,
    basis: 'Lambda, API and Step Functions metrics are free',
  });
  line(m, {
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
  line(m, {
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
}

/**
 * X-Ray: a trace per sampled workflow execution (the functions it invokes are in it) and per
 * sampled invocation of a traced function nothing traced calls (API Gateway HTTP APIs do not
 * trace). The stacks' rules apply to the services they name; anything else to the default rule.
 */
function xRayLines(m: Month, workflows: WorkflowMonth): void {
  const { inventory, a } = m;
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
    const reservoir = rule.reservoirPerSecond * m.monthSeconds;
    return Math.min(count, reservoir) + rule.fixedRate * Math.max(0, count - reservoir);
  };
  let traces = 0;
  for (const w of workflows.tracedExecutions) traces += sampled(w.executions, ruleFor(w.service));
  const traced = [...m.usage.values()].filter((x) => x.fn.tracing);
  for (const f of traced) traces += sampled(Math.max(0, f.invocations - f.tracedUpstream), ruleFor('*'));
  line(m, {
    service: 'X-Ray',
    item: 'traces recorded',
    quantity: traces,
    unit: 'trace',
    unit_usd: m.p.xray.trace_recorded,
    basis:
      `${traced.length} traced functions, ${workflows.tracedExecutions.length} traced workflows; ` +
      `${inventory.samplingRules.length} sampling rules, else ${defaultRule.reservoirPerSecond}/s then ${defaultRule.fixedRate * 100} %`,
  });
}

/**
 * Data transfer: each write travels to every other replica; the plane's own API answers leave AWS
 * through the public endpoints (peers and Route 53's checkers call them over the internet).
 */
function dataTransferLines(m: Month): void {
  const { a, p } = m;
  const replicas = stateReplicas(m.inventory);
  const replicatedBytes = [...m.writesBy.values()].reduce((s, n) => s + n.bytes, 0);
  line(m, {
    service: 'Data transfer',
    item: 'replication between regions',
    quantity: gb(replicatedBytes * Math.max(0, replicas - 1)),
    unit: 'GB',
    unit_usd: p.data_transfer.inter_region_gb,
    basis: `each item written, at its size, to ${Math.max(0, replicas - 1)} other replicas`,
  });
  const selfRequests = [...m.requests].filter(([s]) => s !== 'routed tasks').reduce((s, [, n]) => s + n, 0);
  line(m, {
    service: 'Data transfer',
    item: 'API answers to probes and checks',
    quantity: gb(selfRequests * a.probe_answer_bytes),
    unit: 'GB',
    unit_usd: p.data_transfer.internet_out_gb,
    basis: `${a.probe_answer_bytes} bytes per answer`,
  });
}

/** Bytes as GB (2^30), the unit CloudWatch and data transfer bill. */
function gb(bytes: number): number {
  return bytes / 1024 ** 3;
}

/**
 * AWS's always-free allowances against the lines they cover: one negative line each, for what the
 * allowance takes off (never more than the lines hold), at the prices of the lines it takes from.
 */
export function freeTierLines(lines: readonly CostLine[], free: PriceBook['free_tier']): CostLine[] {
  const out: CostLine[] = [];
  for (const { service, covers, allowance, what } of freeAllowances(free)) {
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

/** An always-free allowance: the service's lines it covers, how much a month, and its name. */
interface FreeAllowance {
  readonly service: string;
  readonly covers: (item: string) => boolean;
  readonly allowance: number;
  readonly what: string;
}

/** AWS's always-free allowances of the price book, each with the lines it covers. */
function freeAllowances(free: PriceBook['free_tier']): readonly FreeAllowance[] {
  return [
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
