/**
 * The layer rules of the code, checked by `npm run deps` (part of `npm test`). Each layer is a path;
 * a rule names what a layer must not import. docs/architecture.md ("Layers, checked") says the same in prose.
 *
 * Layers, and why each stands where it does:
 * - core (lib/core/): the rules as plain functions over plain data; pure so every decision is a
 *   unit test with fixed inputs, and the simulator can run it on virtual time.
 * - ports (lib/ports.ts): the interfaces the use cases need; they speak core's types only.
 * - app (lib/app/): the use cases, over ports and core; no transport, no I/O, no knowledge of which
 *   runtime calls it, so the Lambda, the local plane and the simulator run the same code. The state
 *   machine definitions (statemachines/*.asl.json) are their data, imported as JSON, never read.
 * - adapters (lib/adapters/aws/, lib/adapters/local/): the ports on real services and on local
 *   stand-ins; they implement ports and never call use cases, and one runtime's adapters never
 *   reach into the other's.
 * - functions (functions/): the HTTP and scheduled edge, one thin handler per concern (parse, call a
 *   use case, answer); they see use cases, their own request schemas, functions/shared and the
 *   Lambda composition root, so a handler's bundle holds what its concern needs and nothing else.
 * - runtime (lib/runtime/) and local (lib/local/): the composition roots that build adapters once
 *   and hand them in (lambda.ts on AWS; local.ts and the local control plane around it). The Lambda
 *   root never loads a local stand-in (bundle size, and no dynalite in a Lambda).
 * - sim (lib/sim/): the deterministic simulator, a composition root of its own: the same use cases
 *   and adapters on a virtual clock and simulated stores. It uses no real runtime (stores, servers,
 *   timers) and no handler.
 * - topology (lib/topology/): reads and validates a topology file for the entry points.
 * - cli (lib/cli/): the operator CLI, an entry point (bin/cortex.ts): it talks to regions over HTTP,
 *   starts the local plane or the simulator, and plans deployments; it runs no handler in-process.
 * - infra (lib/infra/): the CDK stacks; deploy-time only: the CDK app, the CLI, benchmarks and tests
 *   may import it, code that runs in a Lambda, the local plane or the simulator never does.
 * - bin/, bench/, scripts/, test/: entry points, benchmarks, tooling and tests; they may import any
 *   layer, and no layer imports them.
 */

/** Paths of the project's own code (node_modules and node: builtins excluded). */
const PROJECT = '^(bin|bench|functions|lib|scripts|statemachines|test|topology|types)/';

/** Node builtins that do I/O: not in app, where every effect goes through a port. */
const IO_BUILTINS =
  '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|dns|child_process|worker_threads|cluster|os)$';

/** Cloud SDKs, CDK, Lambda and middy types: none of them belongs in core or app. */
const PLATFORM =
  '(^|/)node_modules/(@aws-sdk|@smithy|@aws-cdk|aws-cdk-lib|constructs|@types/aws-lambda|@middy)/';

/** Local stand-ins' libraries: only the local runtime and its adapters load them. */
const LOCAL_LIBRARIES = '(^|/)node_modules/(dynalite|aws-local-stepfunctions|dns2)/';

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Modules form no cycle: each layer builds on the ones below it, never round.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import resolves; an import the cruiser cannot follow would escape every rule.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-imports-core',
      comment: 'lib/core is pure: nothing of the project outside lib/core.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { path: PROJECT, pathNot: '^lib/core/' },
    },
    {
      name: 'core-no-builtins',
      comment: 'lib/core does no I/O and reads no clock: no node: builtin at all.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-platform',
      comment: 'lib/core knows nothing of AWS, CDK, Lambda or the local stand-ins.',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { path: [PLATFORM, LOCAL_LIBRARIES] },
    },
    {
      name: 'ports-import-core',
      comment: 'lib/ports.ts speaks core types only.',
      severity: 'error',
      from: { path: '^lib/ports\\.ts$' },
      to: { path: PROJECT, pathNot: '^lib/core/' },
    },
    {
      name: 'app-imports-core-and-ports',
      comment:
        'Use cases depend on core and ports only (and the state machine definitions they own, imported as data): no handler, adapter, runtime, local plane, simulator or infra.',
      severity: 'error',
      from: { path: '^lib/app/' },
      to: {
        path: PROJECT,
        pathNot: '^(lib/app/|lib/core/|lib/ports\\.ts$|statemachines/[^/]+\\.asl\\.json$)',
      },
    },
    {
      name: 'app-no-io',
      comment: 'Use cases do I/O through ports only: no file system, sockets, processes or threads.',
      severity: 'error',
      from: { path: '^lib/app/' },
      to: { dependencyTypes: ['core'], path: IO_BUILTINS },
    },
    {
      name: 'app-no-platform',
      comment: 'Use cases know no transport or platform: no AWS SDK, CDK, Lambda event types or middy.',
      severity: 'error',
      from: { path: '^lib/app/' },
      to: { path: [PLATFORM, LOCAL_LIBRARIES] },
    },
    {
      name: 'adapters-implement-ports',
      comment: 'Adapters import ports and core (and their own kind), never a use case or a composition root.',
      severity: 'error',
      from: { path: '^lib/adapters/' },
      to: { path: PROJECT, pathNot: '^(lib/adapters/|lib/core/|lib/ports\\.ts$)' },
    },
    {
      name: 'adapters-aws-not-local',
      comment: 'The AWS adapters never load a local stand-in.',
      severity: 'error',
      from: { path: '^lib/adapters/aws/' },
      to: { path: ['^lib/adapters/local/', LOCAL_LIBRARIES] },
    },
    {
      name: 'adapters-local-not-aws',
      comment:
        'The local adapters stand beside the AWS ones; what both need is injected by the composition root.',
      severity: 'error',
      from: { path: '^lib/adapters/local/' },
      to: { path: '^lib/adapters/aws/' },
    },
    {
      name: 'functions-import-app',
      comment:
        'Handlers call use cases (lib/app) and are built by the Lambda root (lib/runtime/lambda.ts); core and ports reach them through lib/app.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: PROJECT, pathNot: '^(functions/|lib/app/|lib/runtime/lambda\\.ts$)' },
    },
    {
      name: 'functions-not-local-or-cdk',
      comment:
        'A handler bundle holds no local stand-in and no CDK: they are for the local runtime and deploy time.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: [LOCAL_LIBRARIES, '(^|/)node_modules/(aws-cdk-lib|@aws-cdk|constructs)/'] },
    },
    {
      name: 'functions-own-concern',
      comment: "A handler imports its own concern's files and functions/shared, not another concern's.",
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/', pathNot: '^functions/($1|shared)/' },
    },
    {
      name: 'lambda-root-not-local',
      comment: 'The Lambda composition root never loads the local runtime or its stand-ins.',
      severity: 'error',
      from: { path: '^lib/runtime/lambda\\.ts$' },
      to: { path: ['^lib/local/', '^lib/adapters/local/', LOCAL_LIBRARIES] },
    },
    {
      name: 'roots-not-simulator',
      comment: 'The real runtimes never load the simulator (it is a composition root of its own).',
      severity: 'error',
      from: { path: '^lib/(runtime|local)/' },
      to: { path: '^lib/sim/' },
    },
    {
      name: 'sim-is-deterministic',
      comment:
        'The simulator composes core, ports, use cases and adapters on virtual time: no handler, no real runtime, no local plane.',
      severity: 'error',
      from: { path: '^lib/sim/' },
      to: {
        path: PROJECT,
        pathNot: '^(lib/sim/|lib/core/|lib/ports\\.ts$|lib/app/|lib/adapters/)',
      },
    },
    {
      name: 'topology-loader-imports-core',
      comment: 'lib/topology reads a topology file and validates it with core; nothing else.',
      severity: 'error',
      from: { path: '^lib/topology/' },
      to: { path: PROJECT, pathNot: '^(lib/topology/|lib/core/)' },
    },
    {
      name: 'cli-runs-no-handler',
      comment:
        'The CLI talks to a region over HTTP, or starts the local plane or the simulator; it never runs a handler or the Lambda root in-process.',
      severity: 'error',
      from: { path: '^lib/cli/' },
      to: { path: '^(functions/|lib/runtime/lambda\\.ts$)' },
    },
    {
      name: 'cli-is-an-entry-point',
      comment: 'Only bin/cortex.ts (and the tests) import the CLI.',
      severity: 'error',
      from: { pathNot: '^(lib/cli/|bin/cortex\\.ts$|test/)' },
      to: { path: '^lib/cli/' },
    },
    {
      name: 'infra-is-deploy-time',
      comment:
        'Code that runs in a Lambda, the local plane or the simulator never imports lib/infra; the CDK app, the CLI (deployment plans, cost), benchmarks and tests may.',
      severity: 'error',
      from: { path: '^(functions/|lib/(core|app|adapters|runtime|local|sim|topology)/|lib/ports\\.ts$)' },
      to: { path: '^lib/infra/' },
    },
    {
      name: 'nothing-imports-tooling',
      comment: 'Shipped code never imports tests, benchmarks or scripts.',
      severity: 'error',
      from: { path: '^(lib|functions|bin)/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for the cruiser to parse with: swc parses the sources. It
    // keeps type-only imports, and the rules count them: a handler typed against lib/core depends
    // on it as much as one calling it.
    parser: 'swc',
    // Unanchored: a node_modules linked from elsewhere resolves outside the project.
    doNotFollow: { path: '(^|/)node_modules/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
