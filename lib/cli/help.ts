/**
 * Every command's usage, options and an example, in one place: `cortex <command> --help` prints one
 * entry, a usage error prints the error and that command's usage line only, `cortex --help` lists
 * them all. docs/cli.md is the same catalogue in prose; test/integration/cli-help.test.ts holds
 * every command to it.
 */
import { MAX_DATA_LIST_LIMIT } from '../app/requests/data.ts';

export interface CommandHelp {
  /** The words that name the command: `failover start`. */
  readonly name: string;
  /** Its arguments and options after the name. */
  readonly args: string;
  readonly summary: string;
  /** One `[flag, what it does]` per option of its own. */
  readonly options?: readonly (readonly [string, string])[];
  /** Calls the HTTP API: takes --endpoint, and --json unless `json` is false. */
  readonly api: boolean;
  readonly json?: boolean;
  readonly examples: readonly string[];
  /** Lines after the examples: exit codes that differ from the usual ones, where to read on. */
  readonly notes?: readonly string[];
}

const ENDPOINT_OPTION: readonly [string, string] = [
  '--endpoint <url>[,<url>...]',
  'the API, or several to try in turn (default $CORTEX_ENDPOINT, else http://127.0.0.1:4600)',
];
const JSON_OPTION: readonly [string, string] = ['--json', "print the API's JSON answer as it is"];

function apiOptions(command: CommandHelp): (readonly [string, string])[] {
  if (!command.api) return [];
  return command.json === false ? [ENDPOINT_OPTION] : [ENDPOINT_OPTION, JSON_OPTION];
}

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'local',
    args: '[--port <n>] [--data-dir <dir>] [--fresh] [--topology <file>] [--speed <n>] [--no-aws-controls] ...',
    summary: 'start the local control plane (the same as npm start)',
    api: false,
    options: [
      ['--port <n>', 'gateway port on 127.0.0.1 (default 4600; the regions use the same port on 127.0.1.x)'],
      ['--data-dir <dir>', 'where state is kept (default ./.data)'],
      ['--fresh', 'start from empty state'],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--replication-lag-ms <n>', 'lag between the regional stores (default 200)'],
      ['--speed <n>', 'simulated time runs n times faster: every interval, timeout and wait scales (drills)'],
      ['--dns-port <n>', 'DNS server port on 127.0.0.1, answering api.cortex.local (default 8053)'],
      [
        '--no-aws-controls',
        "judge the local stores as they are (unencrypted, no authentication) instead of the AWS deployment's controls: pii and sensitive data are refused",
      ],
      ['--assume-aws-controls', 'the default now; accepted and ignored'],
    ],
    examples: ['cortex local --fresh --speed 10', 'cortex local --port 0 --data-dir /tmp/cortex'],
  },
  {
    name: 'validate',
    args: '[file] [--json]',
    summary: 'check a topology file and its replication placement; one line per bad field',
    api: false,
    options: [['--json', 'print the verdict as JSON']],
    examples: ['cortex validate topology/us-mrsc.json'],
    notes: ['exit 1 when the file is invalid'],
  },
  {
    name: 'regions',
    args: '',
    summary: 'regions with live status, health, role, epoch, weight and capacity',
    api: true,
    examples: ['cortex regions', 'cortex regions --endpoint http://127.0.0.1:4600,http://127.0.1.2:4600'],
  },
  {
    name: 'route',
    args: '<file|->',
    summary:
      'route a task (JSON as for POST /v1/route, from a file or - for standard input): the choice, each candidate by factor, each exclusion with its reasons',
    api: true,
    examples: [
      `echo '{"task_id":"task-43","requirements":{"compliance":["hipaa"]}}' | cortex route -`,
      'cortex route task.json --json',
    ],
    notes: ['exit 1 when no region can take the task (each excluded region is printed with its reasons)'],
  },
  {
    name: 'handoffs list',
    args: '[--region <r>] [--status <s>] [--after <cursor>] [--limit <n>] [--all]',
    summary:
      "the handoffs of routed tasks as the endpoint region's replica holds them, oldest first, a page at a time: id, task, status, target, source, age and why it is held, moved or ended",
    api: true,
    options: [
      ['--region <r>', 'only handoffs whose target is this region'],
      ['--status <s>', 'only handoffs in this status (pending, accepted, completed, failed, redirected)'],
      ['--after <cursor>', 'start after this cursor (the previous page prints it)'],
      ['--limit <n>', 'handoffs per page (1 to 100, default 25)'],
      ['--all', 'follow the cursor to the last page and print every handoff'],
    ],
    examples: [
      'cortex handoffs list --region us-east-1 --status pending',
      'cortex handoffs list --all --json',
    ],
  },
  {
    name: 'handoffs show',
    args: '<id>',
    summary:
      'one handoff: its task, placement, owner and claim, reservation, and its history (acceptances, interruptions, redirect, settlement) with the decision that placed it',
    api: true,
    examples: ['cortex handoffs show cross-region-task-42'],
  },
  {
    name: 'handoffs accept',
    args: '<id> [--worker <w>]',
    summary:
      "accept a pending handoff for a worker of its target region (pending -> accepted); sent to that region's endpoint",
    api: true,
    options: [['--worker <w>', 'the worker taking the task (a repeat by the same worker changes nothing)']],
    examples: ['cortex handoffs accept cross-region-task-42 --worker worker-7'],
    notes: [
      'exit 1 when refused: accepted by another worker, already ended, or its region does not serve (the reasons are printed)',
    ],
  },
  {
    name: 'health',
    args: '',
    summary: "each region's status, role and epoch, and what every observer sees of it, with reasons",
    api: true,
    examples: ['cortex health'],
  },
  {
    name: 'deploy-plan',
    args: '[--topology <file>] [--account <id>] [--json]',
    summary:
      "how to deploy a topology to AWS: the regions to bootstrap (witnesses' included), the stacks in dependency order, the commands",
    api: false,
    options: [
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--account <id>', 'the AWS account to bootstrap (default: a placeholder)'],
      ['--json', 'print the plan as JSON'],
    ],
    examples: ['cortex deploy-plan --account 123456789012'],
    notes: ['reads no credentials and calls nothing; see docs/deploy.md'],
  },
  {
    name: 'doctor',
    args: '[--domain <domain> | --ssm [--generation <g>]] [--topology <file>] [--sign auto|always|never] [--region <id>] [--max-skew <s>]',
    summary:
      'post-deploy check: asks every region itself for /health and a signed /v1/regions; says per region what is wrong (unreachable, not authorized, not serving, disagreement, clock skew)',
    api: true,
    options: [
      [
        '--domain <domain>',
        "check https://<region>.api.<domain> for every topology region (the deployment's -c domain)",
      ],
      [
        '--ssm',
        'check the API URL each regional stack publishes in its region (SSM /<name>/api-url/<region>)',
      ],
      ['--generation <g>', 'with --ssm: the deployment generation (-c generation=<g>)'],
      [
        '--topology <file>',
        'the topology --domain and --ssm read the regions from (default topology/default.json)',
      ],
      [
        '--sign auto|always|never',
        'SigV4-sign the IAM-authorized calls: auto signs every endpoint not on loopback (default auto)',
      ],
      ['--region <id>', 'the region to sign for when a host names none (default $AWS_REGION)'],
      ['--max-skew <s>', "seconds the regions' clocks may differ (default 5)"],
    ],
    examples: [
      'cortex doctor',
      'cortex doctor --endpoint https://a1b2c3.execute-api.us-east-1.amazonaws.com,https://d4e5f6.execute-api.eu-west-1.amazonaws.com',
      'cortex doctor --ssm',
      'cortex doctor --domain cortex.example.com',
    ],
    notes: ['exit 1 when anything is wrong (each problem is printed); see docs/deploy.md'],
  },
  {
    name: 'dashboard',
    args: '[--domain <domain> | --ssm [--generation <g>]] [--topology <file>] [--allow-actions] [--port <n>] [--host <127.x>] [--sign auto|always|never] [--region <id>]',
    json: false,
    summary:
      'the operations dashboard for a deployed plane: serves the page on 127.0.0.1 and forwards its /v1 calls to the regional APIs, SigV4-signed with your credentials, moving to the next region when one does not answer',
    api: true,
    options: [
      ['--domain <domain>', 'ask https://<region>.api.<domain> for every topology region'],
      ['--ssm', 'ask the API URL each regional stack publishes in its region (as cortex doctor --ssm)'],
      ['--generation <g>', 'with --ssm: the deployment generation (-c generation=<g>)'],
      ['--topology <file>', 'the topology --domain and --ssm read the regions from'],
      [
        '--allow-actions',
        'pass failover start, approve, decline and abort on (default: read-only, GETs only)',
      ],
      ['--port <n>', 'the port to serve the page on (default 4700; 0 picks one)'],
      ['--host <127.x>', 'the loopback address to listen on (default 127.0.0.1; nothing else is accepted)'],
      [
        '--sign auto|always|never',
        'SigV4-sign the forwarded calls: auto signs every endpoint not on loopback',
      ],
      ['--region <id>', 'the region to sign for when a host names none (default $AWS_REGION)'],
    ],
    examples: [
      'cortex dashboard --ssm',
      'cortex dashboard --endpoint https://a1b2c3.execute-api.us-east-1.amazonaws.com,https://d4e5f6.execute-api.eu-west-1.amazonaws.com',
      'cortex dashboard --ssm --allow-actions',
    ],
    notes: ['runs until Ctrl-C; the credentials stay in this process; see docs/dashboard.md'],
  },
  {
    name: 'failover start',
    args: '<region> [--target <region>] [--reason <text>] [--failback] [--dry-run]',
    summary:
      'fail a region over to a surviving one (or plan it with --dry-run, nothing written), or with --failback return it to service',
    api: true,
    options: [
      ['--target <region>', 'only this region may take over (it must qualify)'],
      ['--reason <text>', 'recorded with the failover (default: operator request from the cortex CLI)'],
      ['--failback', 'return a failed or fenced region to service (an operator decision)'],
      ['--dry-run', 'print the plan (target, each candidate and why, the workloads that move) only'],
    ],
    examples: [
      'cortex failover start us-east-1 --dry-run',
      'cortex failover start us-east-1 --failback --reason healed',
    ],
    notes: ['exit 1 when no region can take over: each excluded region is printed with its reasons'],
  },
  {
    name: 'failover status',
    args: '[id]',
    summary: 'the failovers, or one with every step, its timing and outcome',
    api: true,
    examples: ['cortex failover status', 'cortex failover status failover-us-east-1-e0'],
  },
  {
    name: 'failover abort',
    args: '<id>',
    summary: 'ask a running failover to stop and roll back what it did',
    api: true,
    examples: ['cortex failover abort failover-us-east-1-e0'],
  },
  {
    name: 'failover approve',
    args: '<id>',
    summary: 'approve a failover that waits for an operator (manual approval in the topology)',
    api: true,
    examples: ['cortex failover approve failover-us-east-1-e0'],
  },
  {
    name: 'failover decline',
    args: '<id>',
    summary: 'decline a failover that waits for an operator: it ends without failing the region over',
    api: true,
    examples: ['cortex failover decline failover-us-east-1-e0'],
  },
  {
    name: 'fault',
    args: '<region> down|errors|slow|partition|mcp_down [--rate <0..1>] [--latency-ms <n>] [--peers <a,b>] [--servers <a,b>]',
    summary: 'inject a fault into a region of the local control plane',
    api: true,
    options: [
      ['--rate <0..1>', 'errors: the share of requests that answer 500 (default 1)'],
      ['--latency-ms <n>', 'slow: the delay added to every request (default 1000)'],
      ['--peers <a,b>', 'partition: the regions (or witnesses) cut off (default every other)'],
      ['--servers <a,b>', "mcp_down: the region's MCP servers that stop answering (e.g. github)"],
    ],
    examples: ['cortex fault us-east-1 down', 'cortex fault ap-south-1 slow --latency-ms 400'],
  },
  {
    name: 'heal',
    args: '',
    summary: 'remove every injected fault (local control plane)',
    api: true,
    examples: ['cortex heal'],
  },
  {
    name: 'watch',
    args: '[--interval <s>] [--count <n>]',
    json: false,
    summary:
      "live view: the health matrix and the newest failover's steps, redrawn every interval; keeps polling through errors, trying the next endpoint when one does not answer",
    api: true,
    options: [
      ['--interval <s>', 'seconds between polls (default 2)'],
      ['--count <n>', 'stop after n polls (default: until Ctrl-C)'],
    ],
    examples: ['cortex watch', 'cortex watch --interval 1 --count 30'],
    notes: ['exit 1 only when no poll got an answer'],
  },
  {
    name: 'replication',
    args: '',
    summary:
      'replication lag of every region pair (sequences, records, seconds, age, loss window, status), then each table and what measures its lag',
    api: true,
    examples: ['cortex replication'],
  },
  {
    name: 'replication check',
    args: '[--reconcile] [--sample <n>]',
    summary: 'compare n sampled keys across every replica (default 100)',
    api: true,
    options: [
      ['--reconcile', "repair the inconsistent keys by each data type's rule"],
      ['--sample <n>', 'how many keys to sample (1 to 10000)'],
    ],
    examples: ['cortex replication check --sample 500', 'cortex replication check --reconcile'],
    notes: ['exit 1 while some keys stay inconsistent'],
  },
  {
    name: 'data put',
    args: '<key> <file|->',
    summary:
      "write a JSON object under key (selectively replicated data: the key's policy decides its table and replicas)",
    api: true,
    examples: [`echo '{"title":"runbook"}' | cortex data put coordination/us/knowledge-base/runbook -`],
  },
  {
    name: 'data get',
    args: '<key>',
    summary: "read a key from the endpoint's region, with its table and replicas",
    api: true,
    examples: ['cortex data get coordination/us/knowledge-base/runbook'],
  },
  {
    name: 'data delete',
    args: '<key>',
    summary: 'delete a key (refused for immutable policies)',
    api: true,
    examples: ['cortex data delete coordination/us/knowledge-base/runbook'],
  },
  {
    name: 'data list',
    args: '[prefix] [--after <key>] [--limit <n>]',
    summary: "the endpoint region's keys under prefix, a page at a time",
    api: true,
    options: [
      ['--after <key>', 'start after this key (the previous page prints it)'],
      ['--limit <n>', `keys per page (1 to ${MAX_DATA_LIST_LIMIT})`],
    ],
    examples: ['cortex data list coordination/ --limit 20'],
  },
  {
    name: 'privacy request',
    args: 'access|erasure|portability --subject <id> --jurisdiction <name>',
    summary: 'file a data-subject request; prints what each region held and what was done',
    api: true,
    options: [
      ['--subject <id>', 'the data subject'],
      ['--jurisdiction <name>', 'the policy it is filed under, e.g. european_union'],
    ],
    examples: ['cortex privacy request erasure --subject user-7 --jurisdiction european_union'],
  },
  {
    name: 'privacy status',
    args: '[id] [--status <s>] [--subject <id>]',
    summary: 'data-subject requests, or one with its proof per region',
    api: true,
    options: [
      [
        '--status <s>',
        'only requests in this status (received, processing, completed, partially_completed, rejected)',
      ],
      ['--subject <id>', "only this subject's requests"],
    ],
    examples: ['cortex privacy status --subject user-7'],
  },
  {
    name: 'audit',
    args: '[--region <r>]...',
    summary: 'run a compliance audit (every region by default) and print the report',
    api: true,
    options: [['--region <r>', 'audit this region (repeat, or comma-separate, for several)']],
    examples: ['cortex audit', 'cortex audit --region eu-west-1'],
    notes: ['exit 1 when the report has violations'],
  },
  {
    name: 'audit list',
    args: '[--region <r>] [--status <s>]',
    summary: 'stored audit reports and the audit success rate',
    api: true,
    options: [
      ['--region <r>', "only this region's reports"],
      ['--status <s>', 'only reports in this status (compliant, needs_attention, non_compliant)'],
    ],
    examples: ['cortex audit list --status non_compliant'],
  },
  {
    name: 'audit show',
    args: '<id>',
    summary: 'one stored audit report',
    api: true,
    examples: ['cortex audit show audit-us-east-1-20261126'],
    notes: ['exit 1 when the report has violations'],
  },
  {
    name: 'ops daily',
    args: '[--cost [--topology <file>]]',
    summary:
      'run the daily operations report now (health, replication lag, latency, capacity, compliance, cost) and print it',
    api: true,
    options: [
      [
        '--cost',
        'price the topology with the cost model here (it synthesizes the app) and store the figure in the report',
      ],
      ['--topology <file>', 'the topology --cost prices (default topology/default.json)'],
    ],
    examples: ['cortex ops daily', 'cortex ops daily --cost'],
    notes: ['exit 1 when a check is critical; docs/operations.md'],
  },
  {
    name: 'ops reports',
    args: '[id] [--limit <n>]',
    summary: 'stored daily operations reports, newest first, or one with its findings',
    api: true,
    options: [['--limit <n>', 'at most this many reports (1-500, default 30)']],
    examples: ['cortex ops reports', 'cortex ops reports ops-us-east-1-20261203T060000Z'],
  },
  {
    name: 'ops incidents',
    args: '[--limit <n>]',
    summary:
      'emergency shutdown incidents, newest first: region, status, who, when, the drain and the reason',
    api: true,
    options: [['--limit <n>', 'at most this many incidents (1-500, default 100)']],
    examples: ['cortex ops incidents'],
  },
  {
    name: 'region shutdown',
    args: '<id> --reason <text> --confirm <id> [--drain-timeout <s>]',
    summary:
      'emergency shutdown: take a region out of service on purpose (no new tasks, drain, incident, notification)',
    api: true,
    options: [
      ['--reason <text>', 'why (kept in the incident and the notification)'],
      ['--confirm <id>', 'the region id again: nothing happens without it'],
      [
        '--drain-timeout <s>',
        'seconds accepted work may finish there before it is moved (0-3600, default 300)',
      ],
    ],
    examples: ['cortex region shutdown eu-west-1 --reason "credential leak" --confirm eu-west-1'],
    notes: ['docs/operations.md: what happens, and how a region comes back'],
  },
  {
    name: 'region restore',
    args: '<id> --confirm <id> [--reason <text>]',
    summary: 'bring a shut-down region back into service (it must still answer; epoch + 1)',
    api: true,
    options: [
      ['--confirm <id>', 'the region id again: nothing happens without it'],
      ['--reason <text>', 'why it may serve again (kept in the incident)'],
    ],
    examples: ['cortex region restore eu-west-1 --confirm eu-west-1 --reason "keys rotated"'],
  },
  {
    name: 'latency',
    args: '[--from <region>] [--to <region>]',
    summary:
      "the latency matrix routing uses (measured, else the mesh tunnel's, else static), coloured by SLA, and each pair's samples: last, EWMA, p50/p95/p99",
    api: true,
    options: [
      ['--from <region>', 'only pairs from this region'],
      ['--to <region>', 'only pairs to this region'],
    ],
    examples: ['cortex latency --from eu-west-1'],
  },
  {
    name: 'resources',
    args: '',
    summary:
      "each region's allocation, live usage and utilization (warning 70 %, critical 85 %), and the totals",
    api: true,
    examples: ['cortex resources'],
  },
  {
    name: 'rebalance',
    args: '[--dry-run]',
    summary: 'move allocation from idle to overloaded regions',
    api: true,
    options: [['--dry-run', 'print the plan without applying it']],
    examples: ['cortex rebalance --dry-run'],
  },
  {
    name: 'simulate',
    args: '[--schedules <n>] [--seed <s>] [--topology <file>] [--minutes <m>] [--workers <w>] [--out <file>] [--digest] [--json] | --replay <file>',
    summary:
      'random fault schedules against the whole control plane on a virtual clock; one line per invariant; the first failing schedule is written to a file',
    api: false,
    options: [
      ['--schedules <n>', 'how many schedules (default 100)'],
      ['--seed <s>', 'the first seed (default: from the clock; printed)'],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--minutes <m>', 'simulated minutes of faults per schedule (default 20)'],
      ['--workers <w>', 'worker threads (default: the cores; the verdict does not depend on them)'],
      ['--out <file>', 'where the first failing schedule goes (default simulate-failure-<seed>.json)'],
      ['--replay <file>', 'run a written schedule again, printing each action and what happened'],
      [
        '--digest',
        'print one digest of every run (events, final replicas): equal digests, the same runs, whatever the workers',
      ],
      ['--json', 'print the summary (or the replay) as JSON'],
    ],
    examples: [
      'cortex simulate --schedules 200 --seed 7',
      'cortex simulate --replay simulate-failure-7.json',
    ],
    notes: ['exit 1 on any invariant violation; see docs/simulation.md'],
  },
  {
    name: 'dr drill',
    args: '<complete_regional_failure|network_partition|data_corruption|cascading_failure|all> [--plane virtual|local] [--speed <n>] [--region <id>] [--topology <file>] [--out <prefix>] [--break-step <action>] [--cascade-after <seconds>] [--json]',
    summary:
      "a DR drill on a plane it starts (the virtual clock in process; data_corruption on a local control plane): a steady workload, the scenario's faults, detection and the runbook; time to detect, RTO per tier, writes lost (RPO), integrity and residency against the objectives",
    api: false,
    options: [
      [
        '--plane <virtual|local>',
        'virtual (default): the virtual clock in process, data_corruption on a local plane; local: every scenario on a local plane at --speed',
      ],
      ['--speed <n>', 'a local plane runs simulated time n times faster (default 30)'],
      [
        '--region <id>',
        'the region the scenario strikes (default: the first by failover priority; a partition cuts off the last)',
      ],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--out <prefix>', 'the report goes to <prefix>.json and <prefix>.md (default dr-drill-<scenario>)'],
      [
        '--break-step <action>',
        'break one runbook action on purpose (the drill must then fail and name what it missed)',
      ],
      [
        '--cascade-after <seconds>',
        "cascading_failure: take the first failover's target down this long after the failover names it (default 0: at once)",
      ],
      ['--json', 'print the report as JSON instead of Markdown'],
    ],
    examples: ['cortex dr drill complete_regional_failure', 'cortex dr drill all --speed 30'],
    notes: ['progress on stderr; exit 1 when any objective was missed; see docs/dr.md'],
  },
  {
    name: 'dr restore-test',
    args: '[--local | --data-dir <dir>] [--region <id>] [--topology <file>] [--generation <g>] [--endpoint <url>] [--json]',
    summary:
      "the newest recovery point of every table's replicas (point-in-time recovery, AWS Backup; local snapshots) against the RPO of the data it holds: ok or late per replica, with figures",
    api: false,
    options: [
      [
        '--local',
        "check the local plane's snapshots (its data dir and clock, asked through --endpoint; else ./.data)",
      ],
      ['--data-dir <dir>', "check the snapshots under this data dir, at this machine's clock"],
      ['--region <id>', 'only the replicas in this region (without --local: on AWS)'],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--generation <g>', 'on AWS: the deployment generation (-c generation=<g>)'],
      [
        '--endpoint <url>',
        'the local plane to ask (default $CORTEX_ENDPOINT, else http://127.0.0.1:4600); none there: AWS',
      ],
      ['--json', 'print the report as JSON'],
    ],
    examples: ['cortex dr restore-test', 'cortex dr restore-test --region eu-west-1 --json'],
    notes: ['exit 1 when a replica is late, has no recovery point or cannot be read; see docs/backups.md'],
  },
  {
    name: 'mcp servers',
    args: '[--region <id>] [--capability <c>]',
    summary:
      "the MCP server registry: every region's servers with scope, version, failover rule and whether each serves now (and why not)",
    api: true,
    options: [
      ['--region <id>', "only this region's servers"],
      ['--capability <c>', 'only servers offering this capability (sql, git, workflows, ...)'],
    ],
    examples: ['cortex mcp servers --capability sql'],
  },
  {
    name: 'mcp discover',
    args: '<capability> [--region <id>] [--data-classification <c>] [--min-version <v>]',
    summary:
      'the MCP server an agent in a region should use for a capability, and every server passed over with why; a regional server moves only where its failover rule, residency and compliance allow',
    api: true,
    options: [
      ['--region <id>', "the agent's region (default: the endpoint's)"],
      [
        '--data-classification <c>',
        'public, internal, sensitive or pii: the compliance rules for that data apply',
      ],
      ['--min-version <v>', 'only servers at this version (major.minor.patch) or later'],
    ],
    examples: ['cortex mcp discover workflows --region us-east-1'],
    notes: [
      'exit 1 when no server may serve (404: nothing offers it; 422: each server passed over with its reasons)',
    ],
  },
  {
    name: 'network plan',
    args: '[--topology <file>] [--json]',
    summary:
      "the cross-region mesh from the topology: each region's blocks and tunnel address, the tunnels, and the paths between every pair",
    api: false,
    options: [
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--json', 'print the plan as JSON'],
    ],
    examples: ['cortex network plan'],
    notes: [
      'exit 1 when the mesh has issues (a missing pair, overlapping or public blocks); see docs/network.md',
    ],
  },
  {
    name: 'network render',
    args: '--out <dir> [--region <id>[,<id>...]] [--topology <file>] [--data-dir <dir>] [--json]',
    summary: "each region's WireGuard configuration, with keys generated on this machine where none exist",
    api: false,
    options: [
      ['--out <dir>', 'where the <region>.conf files go (mode 0600: they hold the private key)'],
      ['--region <id>', 'only these regions (comma-separated; default all)'],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--data-dir <dir>', 'where the keys live, under network/keys (default ./.data)'],
      ['--json', 'print what was written as JSON'],
    ],
    examples: ['cortex network render --out ./wireguard'],
    notes: ['private keys are written with mode 0600 and never printed'],
  },
  {
    name: 'network keys',
    args: '[--topology <file>] [--data-dir <dir>] [--json]',
    summary:
      "each region's tunnel key: its age against the topology's key_rotation_days (ok, due, expired, missing)",
    api: false,
    options: [
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--data-dir <dir>', 'where the keys live, under network/keys (default ./.data)'],
      ['--json', 'print the ages as JSON'],
    ],
    examples: ['cortex network keys'],
    notes: ['exit 1 when a key is past its rotation date'],
  },
  {
    name: 'network rotate-keys',
    args: '[--region <id>[,<id>...]] [--topology <file>] [--data-dir <dir>] [--json]',
    summary: 'new key pairs for the regions named (default all); render the configurations again after',
    api: false,
    options: [
      ['--region <id>', 'only these regions (comma-separated; default all)'],
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--data-dir <dir>', 'where the keys live, under network/keys (default ./.data)'],
      ['--json', 'print the new public keys as JSON'],
    ],
    examples: ['cortex network rotate-keys --region eu-west-1'],
  },
  {
    name: 'cost',
    args: '[--topology <file>] [--probe-interval 10|30] [--requests-per-month <n>] [--domain <name> | --dns] [--network none|mesh] [--free-tier] [--json]',
    summary:
      "the monthly AWS cost of deploying a topology, line by line (Lambda, API Gateway, Step Functions, DynamoDB, KMS, Route 53, EventBridge, CloudWatch, X-Ray), from the synthesized app's own resources and schedules",
    api: false,
    options: [
      ['--topology <file>', 'topology file (default topology/default.json)'],
      ['--probe-interval 10|30', "seconds between probe rounds and Route 53 checks (default the topology's)"],
      ['--requests-per-month <n>', 'routed tasks a month, spread over the regions (default 100000)'],
      [
        '--domain <name>',
        'price DNS as `cdk deploy -c domain=<name>` deploys it: Route 53 zone, health checks, records (default: none, as the app)',
      ],
      ['--dns', 'the same with a placeholder domain (the name does not change the bill)'],
      ['--no-dns', 'no Route 53 (the default; kept for scripts)'],
      [
        '--network none|mesh',
        'mesh: price what `cdk deploy -c network=mesh` adds to the regions (the MCP health job; the mesh itself: docs/network.md)',
      ],
      [
        '--free-tier',
        "also deduct AWS's always-free allowances (Lambda, CloudWatch, SQS, X-Ray, Scheduler, KMS, DynamoDB storage), as lines apart from the list-price total",
      ],
      ['--json', 'print every line, the total and the price book as JSON'],
    ],
    examples: [
      'cortex cost',
      'cortex cost --requests-per-month 0 --free-tier',
      'cortex cost --probe-interval 10 --requests-per-month 1000000 --json',
      'cortex cost --domain cortex.example.com',
      'cortex cost --network mesh',
    ],
    notes: ['prices and assumptions: lib/core/cost/price-book.ts (named and dated); see docs/cost.md'],
  },
];

/** The command `argv` names: the longest catalogue name its leading words spell. */
export function commandOf(argv: readonly string[]): CommandHelp | undefined {
  let best: CommandHelp | undefined;
  for (const command of COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && words.length > (best?.name.split(' ').length ?? 0)) {
      best = command;
    }
  }
  return best;
}

/** Every command whose first word is `word` (`failover`: start, status, abort ...). */
export function commandsUnder(word: string | undefined): CommandHelp[] {
  return COMMANDS.filter((c) => c.name.split(' ')[0] === word);
}

export function usageLine(command: CommandHelp): string {
  const api = !command.api
    ? ''
    : command.json === false
      ? ' [--endpoint <url,...>]'
      : ' [--endpoint <url,...>] [--json]';
  return `usage: cortex ${command.name}${command.args ? ` ${command.args}` : ''}${api}`;
}

/** Words of `text` in lines of at most `width` characters; lines after the first indented by `indent`. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

const COLUMNS = 100;

/** `cortex <command> --help`. */
export function commandHelp(command: CommandHelp): string {
  const options = [...(command.options ?? []), ...apiOptions(command)];
  const width = Math.max(0, ...options.map(([flag]) => flag.length)) + 2;
  return [
    usageLine(command),
    '',
    wrap(`${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`, COLUMNS, 0),
    ...(options.length > 0
      ? [
          '',
          'options:',
          ...options.map(
            ([flag, what]) => `  ${flag.padEnd(width)}${wrap(what, COLUMNS - 2 - width, 2 + width)}`,
          ),
        ]
      : []),
    '',
    command.examples.length > 1 ? 'examples:' : 'example:',
    ...command.examples.map((e) => `  ${e}`),
    ...(command.notes && command.notes.length > 0 ? ['', ...command.notes] : []),
  ].join('\n');
}

/** `cortex --help`: one line per command. */
export function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: cortex <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary.split(/[:;(]/)[0]?.trim()}`),
    '',
    'cortex <command> --help prints its options and an example. The API commands take',
    '--endpoint <url>[,<url>...] (default $CORTEX_ENDPOINT, else http://127.0.0.1:4600; the next one',
    "is tried when one does not answer) and --json (the API's answer as it is).",
    'Exit codes: 0 done; 1 the API or the file refused (the reasons are printed); 2 the command line is',
    'wrong (a file it names cannot be read included). docs/cli.md has the whole reference.',
  ].join('\n');
}
