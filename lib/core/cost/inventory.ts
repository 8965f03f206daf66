/**
 * What the cost model prices: the deployed resources as the synthesized templates declare them
 * (lib/infra/cost-inventory.ts walks them) and the workload the code's own constants imply. Plain
 * data: the model (model.ts) is arithmetic over it and a price book (price-book.ts).
 */

/** One Lambda function of one stack. */
export interface LambdaFunctionItem {
  /** `CortexRegion-us-east-1`, `CortexWitness-...`. */
  readonly stack: string;
  readonly logicalId: string;
  /** The region it runs in. */
  readonly region: string;
  /** Runs as a witness (probes every region, writes into every region's replica). */
  readonly witness: boolean;
  /**
   * The concern or job it runs (`health-probe`, `router` ...; a witness's probe is `witness-probe`),
   * else its logical id.
   */
  readonly name: string;
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  /** X-Ray active tracing. */
  readonly tracing: boolean;
  /** Its log group's logical id, when the template names one. */
  readonly logGroup?: string;
  /**
   * Lambda writes its platform lines (start, report): system log level INFO or DEBUG. WARN drops
   * them, and an application log level of WARN or ERROR drops the job's info lines.
   */
  readonly platformLogs: boolean;
  readonly applicationInfoLogs: boolean;
}

/** An EventBridge Scheduler schedule and the function it invokes. */
export interface ScheduleItem {
  readonly stack: string;
  readonly logicalId: string;
  /** `rate(1 minute)`, `cron(...)`. */
  readonly expression: string;
  /** Logical id of the function it invokes (same stack), if it invokes one. */
  readonly targetFunction?: string;
  /**
   * Logical id of the state machine it starts (same stack), if it starts one: a driver whose Task
   * states invoke a job's function once per round, waiting between rounds in the workflow.
   */
  readonly targetStateMachine?: string;
  /** The `task` field of its input, when it has one (the hourly consistency check). */
  readonly task?: string;
  /**
   * Logical id of the SQS queue it sends to (same stack), if it sends to one: each message is one
   * invocation of the function the queue's event source mapping invokes (the minute's rounds).
   */
  readonly targetQueue?: string;
  /** Messages each run sends (SendMessageBatch entries; 1 for SendMessage). */
  readonly messages?: number;
}

/** An SQS queue an event source mapping polls, and the function it invokes. */
export interface QueueMappingItem {
  readonly stack: string;
  /** The queue's logical id. */
  readonly queue: string;
  readonly targetFunction: string;
}

/** A custom metric (metric name and dimension set) the functions of `stack` publish (embedded metric format). */
export interface CustomMetricItem {
  readonly stack: string;
  /** `RegionAvailability{region=us-east-1}`. */
  readonly series: string;
  /** The job or concern whose runs publish it: CloudWatch bills a metric for each hour it receives data. */
  readonly publisher: string;
}

/** One route of an HTTP API and the function behind it. */
export interface RouteItem {
  readonly stack: string;
  /** `GET /health`. */
  readonly routeKey: string;
  readonly targetFunction?: string;
}

export interface HttpApiItem {
  readonly stack: string;
  readonly logicalId: string;
  /** Its stage writes access logs (one line per request). */
  readonly accessLogs: boolean;
  readonly accessLogGroup?: string;
  /** Its access log line's format as the stage declares it (`$context.*` variables in JSON). */
  readonly accessLogFormat?: string;
}

export interface StateMachineItem {
  readonly stack: string;
  readonly logicalId: string;
  /** Its name (the X-Ray service name of its traces), when the template gives one. */
  readonly name?: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  /** States in its definition (nested Parallel and Map branches included). */
  readonly states: number;
  /** Task states that invoke a function. */
  readonly taskStates: number;
  readonly tracing: boolean;
  /** Logging level (`ALL`, `ERROR`, `FATAL`, `OFF`). */
  readonly logLevel: string;
  readonly logGroup?: string;
  /** Logical ids of the functions its Task states call (same stack). */
  readonly taskFunctions: readonly string[];
}

/** A DynamoDB global table (or single-region table) and where its replicas are. */
export interface TableItem {
  readonly stack: string;
  readonly tableName: string;
  readonly replicaRegions: readonly string[];
  readonly globalSecondaryIndexes: number;
  readonly pointInTimeRecovery: boolean;
  /** Multi-region strong consistency. */
  readonly strong: boolean;
}

/** An AWS Backup plan's rule and the tables its selections name (by the stack that holds both). */
export interface BackupRuleItem {
  readonly stack: string;
  /** `cron(0 2 * * ? *)`. */
  readonly expression: string;
  /** Days each copy is kept; undefined: forever. */
  readonly deleteAfterDays?: number;
  /** Names of the tables its plan's selections back up (each copy is a full copy). */
  readonly tables: readonly string[];
}

export interface KmsKeyItem {
  readonly stack: string;
  readonly logicalId: string;
  readonly rotation: boolean;
}

export interface HealthCheckItem {
  readonly stack: string;
  /** `HTTPS`, `HTTPS_STR_MATCH`, `CALCULATED` ... */
  readonly type: string;
  /** Seconds (10 or 30); calculated checks have none. */
  readonly intervalSeconds?: number;
  readonly measureLatency: boolean;
  /** Checker regions it names; empty: Route 53's default set. */
  readonly regions: readonly string[];
  /** The path it requests, served by its stack's API. */
  readonly resourcePath?: string;
}

export interface DnsRecordItem {
  readonly stack: string;
  readonly name: string;
  /** An alias to an AWS resource (queries are free). */
  readonly alias: boolean;
  /** `latency`, `failover`, `weighted`, `geolocation`, `simple`. */
  readonly policy: string;
}

export interface LogGroupItem {
  readonly stack: string;
  readonly logicalId: string;
  /** Days; undefined: never expire. */
  readonly retentionDays?: number;
}

export interface AlarmItem {
  readonly stack: string;
  /** Metrics it evaluates (a metric math alarm has several). */
  readonly metrics: number;
  /** A period under 60 s: high resolution. */
  readonly highResolution: boolean;
  readonly composite: boolean;
}

export interface SamplingRuleItem {
  readonly serviceName: string;
  readonly fixedRate: number;
  readonly reservoirPerSecond: number;
  /** Lower applies first. */
  readonly priority: number;
}

export interface CostInventory {
  /** Topology regions with a regional stack. */
  readonly regions: readonly string[];
  readonly stacks: readonly string[];
  readonly functions: readonly LambdaFunctionItem[];
  readonly schedules: readonly ScheduleItem[];
  readonly httpApis: readonly HttpApiItem[];
  readonly routes: readonly RouteItem[];
  readonly stateMachines: readonly StateMachineItem[];
  readonly tables: readonly TableItem[];
  readonly kmsKeys: readonly KmsKeyItem[];
  readonly backupRules: readonly BackupRuleItem[];
  /** Hosted zones created or referenced (by id) by the records. */
  readonly hostedZones: number;
  readonly healthChecks: readonly HealthCheckItem[];
  readonly dnsRecords: readonly DnsRecordItem[];
  readonly logGroups: readonly LogGroupItem[];
  readonly alarms: readonly AlarmItem[];
  /** Log metric filters: each publishes a custom metric. */
  readonly metricFilters: number;
  /** Metrics the functions publish in embedded metric format (no template names them: the code's catalog does). */
  readonly customMetrics: readonly CustomMetricItem[];
  readonly dashboards: number;
  /** SQS queues polled by an event source mapping. */
  readonly queueMappings: readonly QueueMappingItem[];
  /**
   * X-Ray sampling rules the stacks declare, by the service they match (`*`: every service). Any
   * other trace is sampled by the account's default rule.
   */
  readonly samplingRules: readonly SamplingRuleItem[];
  readonly snsTopics: number;
  /** The shared state table's name (what the jobs read and write). */
  readonly stateTableName: string;
}

/**
 * What the code's own constants say the plane does on its own, before any task is routed: the
 * rounds its jobs run and what each round calls.
 */
export interface Workload {
  /** Seconds between probe rounds (the topology's failover policy, or `--probe-interval`). */
  readonly probeIntervalSeconds: number;
  /** The endpoints every observer checks on every region it probes, each round (the policy's). */
  readonly probeEndpoints: readonly string[];
  /**
   * The requests that carry them, each round and region probed: one bundle for the endpoints the
   * health concern answers together, one request for any other (lib/core/health/probe-bundle.ts).
   */
  readonly probeRequests: readonly string[];
  /** Seconds between the replication monitor's beats (lib/core/replication/lag.ts). */
  readonly replicationBeatSeconds: number;
  /** Round trips the latency sampler times to every peer per run, and the path it requests. */
  readonly latencySamplesPerRun: number;
  readonly latencyPingPath: string;
  /** Routed tasks (`POST /v1/route`) a month, spread evenly over the regions. */
  readonly requestsPerMonth: number;
}
