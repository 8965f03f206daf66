/**
 * The unit prices and usage assumptions `cortex cost` uses: the one data file. Prices are AWS's
 * public on-demand list prices for us-east-1 in USD (other regions cost up to about a fifth more),
 * without free tiers (an account's other workloads use them; `free_tier` lists the always-free
 * allowances `cortex cost --free-tier` deducts, apart), written from the pricing pages named
 * in `sources` as published in 2025. Nothing here was fetched at run time: check the pages before
 * quoting a figure, and change the date when a price changes.
 *
 * Assumptions are what a template cannot say: how long a run of each job takes, what it reads and
 * writes, what it logs. Each is named after the job (the HandlerFunction name, lib/infra) or the
 * concern, and each figure is an estimate from the code path it describes, not a measurement.
 */
import type { ItemKind } from './item-size.ts';

/** A figure that grows with the topology: fixed + per_peer x (regions - 1) + per_region x regions + ... */
export interface Scaled {
  readonly fixed?: number;
  readonly per_peer?: number;
  readonly per_region?: number;
  readonly per_region_squared?: number;
}

/** Items of one kind written per round (or per minute), scaled with the topology. */
export interface ItemWrites extends Scaled {
  readonly item: ItemKind;
}

/** One scheduled run of a background job (one invocation), or one API request to a concern. */
export interface RunAssumption {
  /** Milliseconds of work per round (a job without rounds: per run). */
  readonly work_ms: number;
  /**
   * The invocation stays alive between its rounds (lib/app/minute-rounds.ts sleeps inside it), so
   * Lambda bills the waits too. False: only the rounds' work is billed.
   */
  readonly waits_between_rounds?: boolean;
  /**
   * What spaces its rounds inside one invocation: the probe interval (30 s or 10 s) or the
   * replication monitor's beat (15 s). Absent: one round per invocation.
   */
  readonly rounds_every?: 'probe_interval' | 'replication_beat';
  /**
   * DynamoDB read request units per round (strongly consistent: one per started 4 KB of what a
   * read returns; eventually consistent: half). For the probe, witness, monitor, sampler and
   * router, measured on the default topology with full partitions by
   * test/unit/cost-item-sizes.test.ts, which fails when one is off by more than 10 %.
   */
  readonly reads: Scaled;
  /**
   * DynamoDB items written per round, by kind: each write costs the write units of its kind's size
   * (`item_bytes`), in every replica.
   */
  readonly writes: readonly ItemWrites[];
  /** Items written once a minute whatever the rounds (the probe's availability sample and ledger). */
  readonly writes_per_minute?: readonly ItemWrites[];
  /** Application log bytes per invocation (the JSON lines it prints). */
  readonly log_bytes: number;
}

export interface PriceBook {
  readonly name: string;
  /** When the figures were written down (ISO date). */
  readonly date: string;
  readonly currency: 'USD';
  readonly region: string;
  readonly sources: readonly string[];
  readonly prices: {
    readonly lambda: {
      readonly request: number;
      readonly gb_second: { readonly arm64: number; readonly x86_64: number };
    };
    readonly http_api: { readonly request: number };
    readonly step_functions: {
      readonly standard_transition: number;
      readonly express_request: number;
      readonly express_gb_second: number;
    };
    readonly dynamodb: {
      readonly write_request_unit: number;
      readonly replicated_write_request_unit: number;
      readonly read_request_unit: number;
      readonly storage_gb_month: number;
      readonly pitr_gb_month: number;
      /** Backups through AWS Backup (warm storage), each a full copy of its table. */
      readonly backup_gb_month: number;
    };
    readonly kms: { readonly key_month: number; readonly request: number };
    readonly route53: {
      readonly hosted_zone_month: number;
      readonly health_check_month: { readonly aws_endpoint: number; readonly non_aws_endpoint: number };
      /** HTTPS, string matching, fast interval (10 s), latency measurement: each, per check. */
      readonly health_check_feature_month: {
        readonly aws_endpoint: number;
        readonly non_aws_endpoint: number;
      };
      readonly calculated_health_check_month: number;
      readonly query: {
        readonly simple: number;
        readonly latency: number;
        readonly geolocation: number;
        readonly alias_to_aws: number;
      };
    };
    readonly scheduler: { readonly invocation: number };
    /** Standard queue requests (each 64 KB chunk of a request is one). */
    readonly sqs: { readonly request: number };
    readonly eventbridge: { readonly custom_event: number };
    readonly cloudwatch: {
      readonly log_ingestion_gb: number;
      readonly log_storage_gb_month: number;
      readonly custom_metric_month: number;
      readonly alarm_metric_month: { readonly standard: number; readonly high_resolution: number };
      readonly composite_alarm_month: number;
      readonly dashboard_month: number;
    };
    readonly xray: { readonly trace_recorded: number };
    /** Between AWS regions (global table replication), and out to the internet (public API answers). */
    readonly data_transfer: { readonly inter_region_gb: number; readonly internet_out_gb: number };
  };
  /**
   * AWS's always-free allowances a month (every account has them, for good; not the 12-month trial
   * offers), deducted only when asked (`cortex cost --free-tier`): an account's other workloads may
   * use them first. One set per account (an organization shares one set).
   */
  readonly free_tier: {
    /** When the allowances were checked against `sources` (ISO date). */
    readonly date: string;
    readonly sources: readonly string[];
    readonly lambda_requests: number;
    /** Lambda compute, arm64 and x86 together. */
    readonly lambda_gb_seconds: number;
    /** Custom metrics (embedded metric format and metric filters count alike). */
    readonly cloudwatch_metrics: number;
    /** Standard-resolution alarm metrics. */
    readonly cloudwatch_alarms: number;
    /** Dashboards of up to 50 metrics each. */
    readonly cloudwatch_dashboards: number;
    readonly cloudwatch_log_ingestion_gb: number;
    readonly cloudwatch_log_storage_gb: number;
    readonly sqs_requests: number;
    readonly xray_traces: number;
    readonly scheduler_invocations: number;
    /** Symmetric-key requests (a table key's decrypts among them). */
    readonly kms_requests: number;
    readonly dynamodb_storage_gb: number;
  };
  readonly assumptions: {
    /** Hours in a billing month (AWS's own convention). */
    readonly month_hours: number;
    /** Per job (scheduled function) or concern (API function); `task` variants as `<job>:<task>`. */
    readonly runs: Readonly<Record<string, RunAssumption>>;
    /** Any function not named in `runs`. */
    readonly default_run: RunAssumption;
    /** Lambda's platform lines per invocation (JSON format: start and report). */
    readonly platform_log_bytes_per_invocation: number;
    /** Init phases (billed since August 2025): cold starts per function per day, and each one's ms. */
    readonly cold_starts_per_function_per_day: number;
    readonly init_ms: number;
    /** One HTTP API access log line, when the stage's format is not known. */
    readonly access_log_bytes_per_request: number;
    /**
     * Bytes of a typical value of each `$context` variable an access log format names (the line is
     * the format with each replaced), and of any variable not listed.
     */
    readonly access_log_value_bytes: Readonly<Record<string, number>> & { readonly default: number };
    /** CloudWatch Logs stores compressed data: stored bytes per ingested byte. */
    readonly log_compression: number;
    /** A log group that never expires is priced as if it kept this many days. */
    readonly never_expire_days: number;
    /** Route 53 checkers sending requests to each endpoint health check (AWS publishes no figure). */
    readonly route53_checkers: number;
    /** Whether Route 53 prices our API Gateway endpoints as AWS endpoints. */
    readonly route53_endpoint_class: 'aws_endpoint' | 'non_aws_endpoint';
    /** DNS queries reaching Route 53 per API request (resolvers cache for the 60 s TTL). */
    readonly dns_queries_per_request: number;
    /** Failover or drill executions of the workflow a month, over the whole deployment. */
    readonly workflow_executions_per_month: number;
    /** Memory an Express execution is billed at (its 64 MB minimum). */
    readonly express_memory_mb: number;
    /** Bytes logged per state transition with logging level ALL (input and output included). */
    readonly workflow_log_bytes_per_transition: number;
    /** Stored GB per replica: the state table, and every other table. */
    readonly state_table_gb: number;
    readonly other_table_gb: number;
    /** Bytes of an answer to a probe, a check or a latency sample (the public API's, sent out). */
    readonly probe_answer_bytes: number;
    /**
     * Bytes of each kind of item as the adapters write it (attribute names and values, DynamoDB's
     * rules: lib/core/cost/item-size.ts). Measured from the real use cases on the default topology
     * with full windows by test/unit/cost-item-sizes.test.ts, which fails when one disagrees;
     * `record` (failover records, reports, checks: written a few times a day) is an estimate.
     */
    readonly item_bytes: Readonly<Record<ItemKind, number>>;
    /**
     * Kinds whose items carry the global secondary index's key (gsi1): each write of one also writes
     * its index entry, charged as another write of the item.
     */
    readonly indexed_items: readonly ItemKind[];
    /**
     * DynamoDB decrypts a replica's table key with KMS about every 5 minutes for each principal
     * using it: a function called at least that often is one principal (replication is another).
     */
    readonly kms_requests_per_principal_month: number;
    /** Control-plane events put on the bus per region a month (verdicts, rebalances, audits). */
    readonly events_per_region_month: number;
    /** X-Ray's default sampling rule: the first request each second, then this share. */
    readonly xray_default_reservoir_per_second: number;
    readonly xray_default_fixed_rate: number;
    /**
     * An SQS event source mapping long-polls its queue even when it is empty: this many pollers, each
     * a ReceiveMessage every `sqs_long_poll_seconds` (AWS publishes no figure; five is what an idle
     * queue's NumberOfEmptyReceives shows).
     */
    readonly sqs_idle_pollers_per_mapping: number;
    readonly sqs_long_poll_seconds: number;
    /** Routed tasks a month when `--requests-per-month` is not given. */
    readonly default_requests_per_month: number;
  };
}

const PER_MILLION = 1 / 1_000_000;

export const PRICE_BOOK: PriceBook = {
  name: 'AWS on-demand list prices, us-east-1 (2025)',
  date: '2026-12-03',
  currency: 'USD',
  region: 'us-east-1',
  sources: [
    'https://aws.amazon.com/lambda/pricing/',
    'https://aws.amazon.com/api-gateway/pricing/',
    'https://aws.amazon.com/step-functions/pricing/',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ (global tables repriced November 2024)',
    'https://aws.amazon.com/backup/pricing/ (DynamoDB warm storage)',
    'https://aws.amazon.com/kms/pricing/',
    'https://aws.amazon.com/route53/pricing/',
    'https://aws.amazon.com/eventbridge/pricing/ (Scheduler and custom events)',
    'https://aws.amazon.com/sqs/pricing/',
    'https://aws.amazon.com/cloudwatch/pricing/',
    'https://aws.amazon.com/xray/pricing/',
    'https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer)',
  ],
  prices: {
    lambda: { request: 0.2 * PER_MILLION, gb_second: { arm64: 0.0000133334, x86_64: 0.0000166667 } },
    http_api: { request: 1.0 * PER_MILLION },
    step_functions: {
      standard_transition: 0.025 / 1000,
      express_request: 1.0 * PER_MILLION,
      express_gb_second: 0.00001667,
    },
    dynamodb: {
      write_request_unit: 0.625 * PER_MILLION,
      replicated_write_request_unit: 0.625 * PER_MILLION,
      read_request_unit: 0.125 * PER_MILLION,
      storage_gb_month: 0.25,
      pitr_gb_month: 0.2,
      backup_gb_month: 0.1,
    },
    kms: { key_month: 1.0, request: 0.03 / 10_000 },
    route53: {
      hosted_zone_month: 0.5,
      health_check_month: { aws_endpoint: 0.5, non_aws_endpoint: 0.75 },
      health_check_feature_month: { aws_endpoint: 1.0, non_aws_endpoint: 2.0 },
      calculated_health_check_month: 0.5,
      query: {
        simple: 0.4 * PER_MILLION,
        latency: 0.6 * PER_MILLION,
        geolocation: 0.7 * PER_MILLION,
        alias_to_aws: 0,
      },
    },
    scheduler: { invocation: 1.0 * PER_MILLION },
    sqs: { request: 0.4 * PER_MILLION },
    eventbridge: { custom_event: 1.0 * PER_MILLION },
    cloudwatch: {
      log_ingestion_gb: 0.5,
      log_storage_gb_month: 0.03,
      custom_metric_month: 0.3,
      alarm_metric_month: { standard: 0.1, high_resolution: 0.3 },
      composite_alarm_month: 0.5,
      dashboard_month: 3.0,
    },
    xray: { trace_recorded: 5.0 * PER_MILLION },
    data_transfer: { inter_region_gb: 0.02, internet_out_gb: 0.09 },
  },
  free_tier: {
    date: '2026-12-03',
    sources: [
      'https://aws.amazon.com/lambda/pricing/ (1M requests and 400,000 GB-seconds a month)',
      'https://aws.amazon.com/cloudwatch/pricing/ (10 metrics, 10 alarm metrics, 3 dashboards, 5 GB of logs ingested and 5 GB-month stored)',
      'https://aws.amazon.com/sqs/pricing/ (1M requests)',
      'https://aws.amazon.com/xray/pricing/ (100,000 traces recorded)',
      'https://aws.amazon.com/eventbridge/pricing/ (Scheduler: 14M invocations)',
      'https://aws.amazon.com/kms/pricing/ (20,000 requests)',
      'https://aws.amazon.com/dynamodb/pricing/on-demand/ (25 GB of storage)',
      'https://aws.amazon.com/free/ (Always Free offers)',
    ],
    lambda_requests: 1_000_000,
    lambda_gb_seconds: 400_000,
    cloudwatch_metrics: 10,
    cloudwatch_alarms: 10,
    cloudwatch_dashboards: 3,
    cloudwatch_log_ingestion_gb: 5,
    cloudwatch_log_storage_gb: 5,
    sqs_requests: 1_000_000,
    xray_traces: 100_000,
    scheduler_invocations: 14_000_000,
    kms_requests: 20_000,
    dynamodb_storage_gb: 25,
  },
  assumptions: {
    month_hours: 730,
    runs: {
      // A round probes every endpoint of every peer concurrently (one cross-region HTTPS round trip,
      // up to 200 ms on the default matrix) and makes about ten sequential table calls. It writes a
      // view per peer and its heartbeat together, which the replication mark counts in one ADD
      // (lib/app/replication/counting-state.ts: writes made together share one count); it reads
      // views, heartbeats, statuses, failovers and its handoffs and holds (lib/app/probe-round.ts).
      // The first round of each minute also puts its availability sample and rewrites its ledger.
      'health-probe': {
        work_ms: 800,
        waits_between_rounds: true,
        rounds_every: 'probe_interval',
        reads: { fixed: 4.5, per_region: 1 },
        writes: [
          { item: 'probe_view', per_peer: 1 },
          { item: 'heartbeat', fixed: 1 },
          { item: 'replication_mark', fixed: 1 },
        ],
        writes_per_minute: [
          { item: 'availability_sample', fixed: 1 },
          { item: 'availability_ledger', fixed: 1 },
        ],
        log_bytes: 1500,
      },
      // A witness probes every region and writes its view of each into every region's replica
      // (lib/app/witness-round.ts): regions x regions items, each then replicated to every replica.
      // It holds no UpdateItem, so no replication mark is counted.
      'witness-probe': {
        work_ms: 800,
        waits_between_rounds: true,
        rounds_every: 'probe_interval',
        reads: { fixed: 6, per_region: 1 },
        writes: [{ item: 'witness_view', per_region_squared: 1 }],
        log_bytes: 1200,
      },
      // A beat (one UpdateItem on its mark), its marks and every peer's (a Query each), lag views and
      // changed documents; views are written only on a change (lib/app/replication/monitor.ts).
      'replication-monitor': {
        work_ms: 250,
        waits_between_rounds: true,
        rounds_every: 'replication_beat',
        reads: { fixed: 2, per_peer: 1 },
        writes: [{ item: 'replication_mark', fixed: 1 }],
        log_bytes: 1200,
      },
      // 100 sampled keys read in every replica (BatchGetItem), the check recorded.
      'replication-monitor:consistency_check': {
        work_ms: 3000,
        reads: { fixed: 60, per_region: 50 },
        writes: [{ item: 'record', fixed: 2 }],
        log_bytes: 600,
      },
      // samples_per_run sequential round trips to each peer (peers in parallel), an entry per peer
      // (its 30-sample window included, under 1 KB: `item_bytes`). The latency store is not counted on
      // the replication mark (lib/runtime/lambda.ts counts the state port only): no ADD.
      'latency-sampler': {
        work_ms: 1000,
        reads: { fixed: 0.5 },
        writes: [{ item: 'latency_entry', per_peer: 1 }],
        // Its summary line, and one line a link with the link's percentiles (the dashboard's graphs).
        log_bytes: 800,
      },
      rebalancer: {
        work_ms: 300,
        reads: { fixed: 3, per_region: 1 },
        writes: [{ item: 'record', fixed: 0.1 }],
        log_bytes: 400,
      },
      'privacy-sweeper': { work_ms: 300, reads: { fixed: 2 }, writes: [], log_bytes: 300 },
      'compliance-audit': {
        work_ms: 5000,
        reads: { fixed: 200 },
        writes: [{ item: 'record', fixed: 2 }],
        log_bytes: 2000,
      },
      // The daily operations report (lib/app/ops/daily-report.ts): the regions and their views, every
      // replica's marks, the latency matrix, the pools and the audits, read once a day; one report.
      'ops-daily': {
        work_ms: 2000,
        reads: { fixed: 10, per_region: 3 },
        writes: [{ item: 'record', fixed: 1 }],
        log_bytes: 1000,
      },
      // The MCP health job (only with the network mesh): every named server called concurrently
      // inside the mesh (tens of ms each), the registry and the observers' probe records read (two
      // Queries of the MCP partition), this observer's record written (lib/app/mcp/probe.ts). Its
      // store is not counted on the replication mark: no ADD.
      'mcp-probe': {
        work_ms: 400,
        reads: { fixed: 2 },
        writes: [{ item: 'record', fixed: 1 }],
        log_bytes: 800,
      },
      // One failover step per invocation (a Task state).
      failover: {
        work_ms: 500,
        reads: { fixed: 4, per_peer: 1 },
        writes: [{ item: 'record', fixed: 4 }],
        log_bytes: 600,
      },
      // Per API request. The probed paths answer from the region's own replica.
      health: { work_ms: 30, reads: { fixed: 1 }, writes: [], log_bytes: 0 },
      // A peer's probe round in one request: the three paths' reads, side by side.
      'health:/coordination/probe': { work_ms: 40, reads: { fixed: 3 }, writes: [], log_bytes: 0 },
      // Plus the answering region's availability samples, read whole: 1,440 items of about 150 bytes
      // (about 216 KB, 27 eventually consistent read units).
      regions: { work_ms: 40, reads: { fixed: 29 }, writes: [], log_bytes: 0 },
      // A route reads statuses, pools and the handoff; writes the handoff (counted on the mark), its
      // claim, the hold and the pool's reservation (the held counter).
      router: {
        work_ms: 120,
        reads: { fixed: 8.5 },
        writes: [
          { item: 'handoff', fixed: 1 },
          { item: 'replication_mark', fixed: 1 },
          { item: 'claim', fixed: 1 },
          { item: 'hold', fixed: 1 },
          { item: 'held_counter', fixed: 1 },
        ],
        log_bytes: 300,
      },
    },
    default_run: { work_ms: 50, reads: { fixed: 2 }, writes: [], log_bytes: 200 },
    platform_log_bytes_per_invocation: 700,
    cold_starts_per_function_per_day: 12,
    init_ms: 300,
    access_log_bytes_per_request: 400,
    access_log_value_bytes: {
      requestId: 16, // Lp2ZEi6loAMEbvQ=
      'identity.sourceIp': 14,
      // A signed caller's principal (AROA...:session); `-` for an unsigned /health.
      'identity.caller': 40,
      requestTime: 26, // 03/Dec/2026:16:25:23 +0000
      requestTimeEpoch: 13,
      routeKey: 23, // GET /coordination/probe
      status: 3,
      responseLatency: 3,
      integrationLatency: 3,
      integrationErrorMessage: 1, // -
      responseLength: 3,
      default: 16,
    },
    log_compression: 0.15,
    never_expire_days: 365,
    route53_checkers: 15,
    route53_endpoint_class: 'non_aws_endpoint',
    dns_queries_per_request: 0.1,
    workflow_executions_per_month: 1,
    express_memory_mb: 64,
    workflow_log_bytes_per_transition: 1500,
    state_table_gb: 0.1,
    other_table_gb: 0.01,

    probe_answer_bytes: 600,
    item_bytes: {
      probe_view: 960,
      witness_view: 885,
      heartbeat: 72,
      availability_sample: 136,
      availability_ledger: 161,
      replication_mark: 333,
      latency_entry: 294,
      handoff: 1580,
      claim: 426,
      hold: 319,
      held_counter: 139,
      resource_pool: 203,
      record: 1024,
    },
    indexed_items: ['handoff', 'record'],
    kms_requests_per_principal_month: 12 * 730,
    events_per_region_month: 1000,
    xray_default_reservoir_per_second: 1,
    xray_default_fixed_rate: 0.05,
    sqs_idle_pollers_per_mapping: 5,
    sqs_long_poll_seconds: 20,
    default_requests_per_month: 100_000,
  },
};
