import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Concern } from '../app/routes.ts';
import { compileTopology } from '../core/topology/compiled.ts';
import type { Topology } from '../core/topology/types.ts';
import type { StateTableReplica, TableItemAction } from './state-table.ts';

/** Environment the Lambda composition root reads (functions/shared). */
export const HANDLER_ENV = {
  regionId: 'CORTEX_REGION_ID',
  tableName: 'CORTEX_TABLE_NAME',
} as const;

/** esbuild `define` key under which the compiled topology is baked into every bundle. */
export const TOPOLOGY_DEFINE = 'CORTEX_TOPOLOGY';

// ESM bundles may still contain CommonJS dependencies that `require()` Node built-ins; esbuild's
// shim then needs a real `require` in scope, which ESM lacks. One line, no cost when unused.
const ESM_REQUIRE_SHIM =
  "import { createRequire as __cortexCreateRequire } from 'node:module'; const require = __cortexCreateRequire(import.meta.url);";

export interface HandlerFunctionProps {
  /** The concern served (`functions/<concern>/index.ts`); names the function's resources. */
  readonly concern: Concern;
  /** Absolute path of the handler module; it must export `handler`. */
  readonly entry: string;
  /** Absolute path of the project root (holds package-lock.json); esbuild runs from here. */
  readonly projectRoot: string;
  /** The topology region this function serves; must be the stack's region. */
  readonly regionId: string;
  /** The validated topology; baked into the bundle as a compiled document (no re-validation at init). */
  readonly topology: Topology;
  /** MiB. @default 256 */
  readonly memorySize?: number;
  /** Must stay under API Gateway's 30 s integration limit. @default 10 seconds */
  readonly timeout?: Duration;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One concern's Lambda function: Node.js 24 on arm64, bundled by esbuild as ESM with the topology
 * baked in, its own log group and role (no AWS managed policies), X-Ray tracing active.
 * Connect it to the state table with `useStateTable`, which sets the env var and IAM together.
 */
export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly concern: Concern;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    validateProps(this, props);
    this.concern = props.concern;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Cortex ${props.concern} function in ${props.regionId}`,
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group in the account): only our own.
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      description: `Cortex ${props.concern} (${props.regionId})`,
      environment: { [HANDLER_ENV.regionId]: props.regionId },
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

    // Acknowledged next to the resource it concerns (cdk-nag 3: Validations.acknowledge).
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by tracing: ACTIVE. xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so X-Ray requires Resource "*".',
    });
  }

  /** Points the function at its region's state table replica and grants exactly `actions` on it. */
  useStateTable(table: StateTableReplica, actions: readonly TableItemAction[]): void {
    this.function.addEnvironment(HANDLER_ENV.tableName, table.tableName);
    table.grantItemAccess(this.role, actions);
  }
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
  if (!props.topology.regions.some((r) => r.region_id === props.regionId)) {
    problems.push(`regionId ${props.regionId} is not a region of the topology`);
  }
  const memory = props.memorySize ?? 256;
  if (!Number.isInteger(memory) || memory < 128 || memory > 10240) {
    problems.push(`memorySize must be an integer in 128..10240 MiB, got ${memory}`);
  }
  const timeout = props.timeout?.toSeconds() ?? 10;
  if (timeout < 1 || timeout > 29) {
    problems.push(`timeout must be 1..29 s (API Gateway gives up after 30 s), got ${timeout} s`);
  }
  if (problems.length > 0) throw new Error(`HandlerFunction ${props.concern}: ${problems.join('; ')}`);
}
