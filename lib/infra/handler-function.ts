import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Annotations, Aspects, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Concern } from '../app/routes.ts';
import { compileTopology } from '../core/topology/compiled.ts';
import type { Topology } from '../core/topology/types.ts';
import { LAMBDA_ENV, type LambdaFunction, variablesOf, WITNESS_PROBE } from '../runtime/env.ts';
import { acknowledgeWildcardResources } from './nag.ts';
import type { RegionEndpoints } from './region-endpoints.ts';
import type { TableItemAction } from './state-table.ts';
import type { StateTableAccess } from './state-tables.ts';

/**
 * Environment the Lambda composition root reads, by what each variable holds: the names and schema
 * live with the root (lib/runtime/env.ts), so the stacks write what it parses.
 */
export const HANDLER_ENV = LAMBDA_ENV;

/**
 * Functions that run in the background (no API Gateway in front): a code directory under
 * `functions/` like a concern's, but no route. Timeouts may exceed API Gateway's 30 s.
 */
export type BackgroundJobName =
  | 'health-probe'
  | 'failover'
  | 'privacy-sweeper'
  | 'compliance-audit'
  | 'replication-monitor'
  | 'latency-sampler'
  | 'rebalancer'
  | 'ops-daily'
  | 'mcp-probe';

export const BACKGROUND_JOBS: readonly Exclude<BackgroundJobName, MeshJobName>[] = [
  'health-probe',
  'failover',
  'privacy-sweeper',
  'compliance-audit',
  'replication-monitor',
  'latency-sampler',
  'rebalancer',
  'ops-daily',
];

/**
 * Jobs built only with the network mesh (`-c network=mesh`): they run inside its VPC. The MCP
 * health job calls the MCP servers, whose private names resolve and route only there.
 */
export type MeshJobName = 'mcp-probe';

export const MESH_JOBS: readonly MeshJobName[] = ['mcp-probe'];

/**
 * A function's code directory under `functions/`: an HTTP concern, a background job, or `dr` (the DR
 * runbooks' task function, started only by their state machines).
 */
export type FunctionName = Concern | BackgroundJobName | 'dr';

/** esbuild `define` key under which the compiled topology is baked into every bundle. */
export const TOPOLOGY_DEFINE = 'CORTEX_TOPOLOGY';

// ESM bundles may still contain CommonJS dependencies that `require()` Node built-ins; esbuild's
// shim then needs a real `require` in scope, which ESM lacks. One line, no cost when unused.
const ESM_REQUIRE_SHIM =
  "import { createRequire as __cortexCreateRequire } from 'node:module'; const require = __cortexCreateRequire(import.meta.url);";

export interface HandlerFunctionProps {
  /** The concern served or job run (`functions/<name>/index.ts`); names the function's resources. */
  readonly concern: FunctionName;
  /** Absolute path of the handler module; it must export `handler` (or `handlerExport`). */
  readonly entry: string;
  /** The module's export Lambda calls. @default 'handler' */
  readonly handlerExport?: string;
  /** Absolute path of the project root (holds package-lock.json); esbuild runs from here. */
  readonly projectRoot: string;
  /** The topology region this function serves (a witness: the region it runs in); the stack's region. */
  readonly regionId: string;
  /**
   * Runs as this topology witness instead of serving a region: `regionId` is then the witness's
   * region and the environment carries CORTEX_WITNESS_ID instead of CORTEX_REGION_ID.
   */
  readonly witnessId?: string;
  /** The validated topology; baked into the bundle as a compiled document (no re-validation at init). */
  readonly topology: Topology;
  /** MiB. @default 256 */
  readonly memorySize?: number;
  /**
   * X-Ray. `active`: Lambda samples what arrives untraced (a fixed first request each second and 5 %
   * of the rest: at Route 53's or a schedule's pace, nearly every one). `pass-through`: only what the
   * caller sampled (the minute driver's X-Ray rule; /health: a caller's own trace). @default 'active'
   */
  readonly tracing?: 'active' | 'pass-through';
  /** Concerns: under API Gateway's 30 s integration limit. Background jobs: up to 900 s. @default 10 seconds */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /**
   * A fixed name for its log group, for what must find it in every region without a cross-region
   * reference (the dashboard's Logs Insights widgets). A named group is deleted with its stack, so a
   * destroyed deployment can be deployed again. @default a generated name, the group kept
   */
  readonly logGroupName?: string;
}

/**
 * One concern's Lambda function: Node.js 24 on arm64, bundled by esbuild as ESM with the topology
 * baked in, its own log group and role (no AWS managed policies), X-Ray tracing (active, or what the
 * caller sampled).
 * Connect it to the state table with `useStateTable`, which sets the env var and IAM together.
 */
export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly concern: FunctionName;
  /** What the function's deps and environment are built for (lib/runtime/env.ts): its concern, or a witness's probe. */
  readonly wired: LambdaFunction;
  /** The region the function runs in. */
  readonly regionId: string;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    validateProps(this, props);
    this.concern = props.concern;
    this.wired = props.witnessId !== undefined ? WITNESS_PROBE : props.concern;
    this.regionId = props.regionId;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      ...(props.logGroupName === undefined
        ? {}
        : { logGroupName: props.logGroupName, removalPolicy: RemovalPolicy.DESTROY }),
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Cortex ${props.concern} function in ${props.regionId}${props.witnessId ? ` (witness ${props.witnessId})` : ''}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group in the account): only our own.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: props.handlerExport ?? 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Lambda's own lines at WARN: no START, END and REPORT for every invocation (about 700 bytes
      // each, over 5 million a month idle; duration and errors are free metrics anyway). Application
      // lines stay at INFO: an EMF metric line carries no level, so Lambda files it as INFO and a
      // WARN application level would drop the metrics with the job records (docs/aws.md).
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: props.tracing === 'pass-through' ? lambda.Tracing.PASS_THROUGH : lambda.Tracing.ACTIVE,
      description: `Cortex ${props.concern} (${props.witnessId ?? props.regionId})`,
      environment: props.witnessId
        ? { [HANDLER_ENV.witnessId]: props.witnessId }
        : { [HANDLER_ENV.regionId]: props.regionId },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        minify: true,
        sourceMap: false,
        banner: ESM_REQUIRE_SHIM,
        // The nodejs24.x runtime ships AWS SDK v3: bundling the DynamoDB client would add ~340 KiB
        // and ~190 ms of module loading to every cold start, the latency that matters most on the
        // failover path. We use only stable DynamoDB APIs, so runtime-provided versions suffice.
        externalModules: ['@aws-sdk/*'],
        define: { [TOPOLOGY_DEFINE]: JSON.stringify(compileTopology(props.topology)) },
      },
    });

    // A function missing a variable its ports need would fail every cold start: an error of the synth
    // instead (`cdk synth` stops on it), checked once every variable is set.
    Aspects.of(this).add({
      visit: (node) => {
        if (node !== this) return;
        const missing = missingVariables(this.function, this.wired);
        if (missing.length > 0) {
          Annotations.of(this).addError(
            `${this.wired} needs ${missing.join(', ')} (lib/runtime/env.ts) and its environment does not set them`,
          );
        }
      },
    });

    // Acknowledged next to the resource it concerns (cdk-nag 3: Validations.acknowledge).
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by tracing (Active or PassThrough). xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so X-Ray requires Resource "*".',
    });
  }

  /**
   * Points the function at its region's state table replica and grants exactly `actions` on it (and,
   * through StateTables, on the MRSC table's replica where the placement has one).
   */
  useStateTable(table: StateTableAccess, actions: readonly TableItemAction[]): void {
    this.function.addEnvironment(HANDLER_ENV.tableName, table.tableName);
    table.grantItemAccess(this.role, actions);
  }

  /**
   * Names the state table (CORTEX_TABLE_NAME) without any grant: for a function the shared Lambda
   * composition root must start (it reads the name) that never calls the table.
   */
  nameStateTable(table: StateTableAccess): void {
    this.function.addEnvironment(HANDLER_ENV.tableName, table.tableName);
  }

  /** Lets the function publish to the region's bus (events:PutEvents on it only) and names it. */
  useEventBus(bus: events.IEventBus): void {
    this.function.addEnvironment(HANDLER_ENV.eventBus, bus.eventBusName);
    bus.grantPutEventsTo(this.role);
  }

  /**
   * Names the region's failover state machine and grants what `access` lists: `start`
   * (StartExecution) and `answer` (SendTaskSuccess / SendTaskFailure for the approval step), on this
   * region's state machine or, with `regionIds`, on the same-named one in each of those regions.
   * `access` empty: the function only knows the ARN (a shared composition root reads it).
   */
  useFailoverWorkflow(
    workflow: FailoverWorkflowRef,
    access: readonly WorkflowAccess[],
    regionIds?: readonly string[],
  ): void {
    this.function.addEnvironment(HANDLER_ENV.failoverStateMachineArn, workflow.stateMachineArn);
    if (access.includes('start')) workflow.grantStartExecution(this.role, regionIds);
    if (access.includes('answer')) workflow.grantTaskResponse(this.role, regionIds);
  }

  /**
   * Runs the function in a VPC: its network interfaces in `subnetIds` with `securityGroupIds`, and
   * the role's permissions Lambda uses to manage them (AWSLambdaVPCAccessExecutionRole's actions,
   * creation confined to those subnets and security groups).
   */
  runInVpc(vpc: {
    readonly subnetIds: readonly string[];
    readonly securityGroupIds: readonly string[];
  }): void {
    const cfn = this.function.node.defaultChild as lambda.CfnFunction;
    cfn.vpcConfig = { subnetIds: [...vpc.subnetIds], securityGroupIds: [...vpc.securityGroupIds] };
    const { partition, region, account } = Stack.of(this);
    const arn = (type: string, id: string) => `arn:${partition}:ec2:${region}:${account}:${type}/${id}`;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          arn('network-interface', '*'),
          ...vpc.subnetIds.map((id) => arn('subnet', id)),
          ...vpc.securityGroupIds.map((id) => arn('security-group', id)),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: [arn('network-interface', '*')],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        // Describe calls take no resource-level permission.
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResources(
      this.role,
      [arn('network-interface', '*'), '*'],
      "Lambda manages the function's VPC network interfaces with these (AWSLambdaVPCAccessExecutionRole's actions, without its logs:* on any group): an interface's id exists only once Lambda creates it, creation is confined to the given subnets and security groups, and ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets take no resource-level permission.",
    );
    // The role must hold them before Lambda creates the function's interfaces.
    cfn.node.addDependency(this.role);
  }

  /**
   * Tells the function where each region's API is (see RegionEndpoints) and, with `probe`, lets it
   * read the SSM parameters of regions not known at synth and GET the probed paths with SigV4 (with
   * `rounds`, their bundle too).
   */
  useRegionEndpoints(
    endpoints: RegionEndpoints,
    probe?: { readonly targets: readonly string[]; readonly rounds?: boolean },
  ): void {
    this.function.addEnvironment(HANDLER_ENV.regionEndpoints, endpoints.endpointsJson());
    if (endpoints.parameterTemplate !== undefined) {
      this.function.addEnvironment(HANDLER_ENV.endpointParameter, endpoints.parameterTemplate);
    }
    if (probe) endpoints.grantProbe(this.role, probe.targets, { rounds: probe.rounds === true });
  }
}

/** `start` a failover workflow, `answer` its approval step. */
export type WorkflowAccess = 'start' | 'answer';

/** What `useFailoverWorkflow` needs of the workflow (FailoverWorkflow implements it). */
export interface FailoverWorkflowRef {
  readonly stateMachineArn: string;
  grantStartExecution(grantee: iam.IGrantable, regionIds?: readonly string[]): void;
  grantTaskResponse(grantee: iam.IGrantable, regionIds?: readonly string[]): void;
}

/** The variables `wired` requires (lib/runtime/env.ts) that `fn`'s environment does not set. */
function missingVariables(fn: lambda.Function, wired: LambdaFunction): string[] {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const environment = Stack.of(fn).resolve(cfn.environment) as
    | { variables?: Record<string, unknown> }
    | undefined;
  const set = environment?.variables ?? {};
  return variablesOf(wired).required.filter((name) => set[name] === undefined);
}

function validateProps(scope: Construct, props: HandlerFunctionProps): void {
  const problems: string[] = [];
  if (!isAbsolute(props.entry) || !existsSync(props.entry)) {
    problems.push(
      `entry must be an existing absolute path (functions/${props.concern}/index.ts), got ${props.entry}`,
    );
  }
  if (!isAbsolute(props.projectRoot) || !existsSync(`${props.projectRoot}/package-lock.json`)) {
    problems.push(`projectRoot must be an absolute path holding package-lock.json, got ${props.projectRoot}`);
  }
  const stackRegion = Stack.of(scope).region;
  if (!Token.isUnresolved(stackRegion) && stackRegion !== props.regionId) {
    problems.push(`regionId ${props.regionId} must be the stack's region ${stackRegion}`);
  }
  if (props.witnessId !== undefined) {
    const witness = props.topology.witnesses.find((w) => w.witness_id === props.witnessId);
    if (!witness) problems.push(`witnessId ${props.witnessId} is not a witness of the topology`);
    else if (witness.region !== props.regionId) {
      problems.push(
        `regionId ${props.regionId} must be witness ${props.witnessId}'s region ${witness.region}`,
      );
    }
  } else if (!props.topology.regions.some((r) => r.region_id === props.regionId)) {
    problems.push(`regionId ${props.regionId} is not a region of the topology`);
  }
  const memory = props.memorySize ?? 256;
  if (!Number.isInteger(memory) || memory < 128 || memory > 10240) {
    problems.push(`memorySize must be an integer in 128..10240 MiB, got ${memory}`);
  }
  const timeout = props.timeout?.toSeconds() ?? 10;
  // Background jobs and the DR task function run behind no API Gateway.
  const background =
    props.concern === 'dr' ||
    ([...BACKGROUND_JOBS, ...MESH_JOBS] as readonly string[]).includes(props.concern);
  if (!background && (timeout < 1 || timeout > 29)) {
    problems.push(`timeout must be 1..29 s (API Gateway gives up after 30 s), got ${timeout} s`);
  }
  if (background && (timeout < 1 || timeout > 900)) {
    problems.push(`timeout must be 1..900 s (Lambda's limit), got ${timeout} s`);
  }
  if (props.handlerExport !== undefined && !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(props.handlerExport)) {
    problems.push(`handlerExport must be an identifier, got ${JSON.stringify(props.handlerExport)}`);
  }
  if (problems.length > 0) throw new Error(`HandlerFunction ${props.concern}: ${problems.join('; ')}`);
}
