/**
 * The Lambda environment, in one place: every variable the Lambda composition root (lambda.ts) reads,
 * its schema, and which of them each function needs. A function's needs derive from the ports it is
 * wired with (FUNCTION_PORTS in lib/app/deps.ts): the CDK (lib/infra) writes the variables by these
 * names and refuses to synthesize a function missing one it needs, and the root parses them once
 * per container, so a missing or malformed variable fails the cold start naming itself and why.
 * Deploy-time code may import this module; it imports nothing of lib/infra.
 */
import * as z from 'zod/mini';
import { FUNCTION_PORTS, type PortName, type WiredFunction } from '../app/deps.ts';
import { parseDeploymentFacts } from '../core/compliance/facts.ts';
import { REGION_ID_PATTERN } from '../core/topology/types.ts';

/** The variables, by what they hold. */
export const LAMBDA_ENV = {
  /** The topology region the function serves (not set for a witness). */
  regionId: 'CORTEX_REGION_ID',
  /** The state table's name, the same in every region. */
  tableName: 'CORTEX_TABLE_NAME',
  /**
   * What the deployment configures, as JSON (lib/core/compliance/facts.ts). Unset: the controls
   * lib/infra always builds (AWS_DEPLOYMENT_FACTS).
   */
  deploymentFacts: 'CORTEX_DEPLOYMENT_FACTS',
  /** A witness's id (witness probe only; it has no CORTEX_REGION_ID). */
  witnessId: 'CORTEX_WITNESS_ID',
  /** This region's EventBridge bus name. */
  eventBus: 'CORTEX_EVENT_BUS',
  /** This region's failover state machine ARN (other regions': the same name, deterministic). */
  failoverStateMachineArn: 'CORTEX_FAILOVER_STATE_MACHINE_ARN',
  /** JSON `{ "<region>": "https://..." }`: API base URLs known at synth (no trailing slash). */
  regionEndpoints: 'CORTEX_REGION_ENDPOINTS',
  /**
   * SSM parameter name template `/<name>/api-url/{region}`, set only when some region's URL is not in
   * CORTEX_REGION_ENDPOINTS: read `{region}`'s parameter in that region (GetParameter, cache it).
   */
  endpointParameter: 'CORTEX_ENDPOINT_PARAMETER',
  /** The region's audit report bucket, when the deployment has one (`-c auditBucket=true`). */
  auditBucket: 'CORTEX_AUDIT_BUCKET',
} as const;

type LambdaVariable = (typeof LAMBDA_ENV)[keyof typeof LAMBDA_ENV];

/** Variables a deployment may leave unset; set to the empty string they count as unset. */
const OPTIONAL: ReadonlySet<string> = new Set<LambdaVariable>([
  LAMBDA_ENV.deploymentFacts,
  LAMBDA_ENV.endpointParameter,
  LAMBDA_ENV.auditBucket,
]);

/** Variables holding JSON: an error names the reason, not the (long) value. */
const JSON_VALUED: ReadonlySet<string> = new Set<LambdaVariable>([
  LAMBDA_ENV.deploymentFacts,
  LAMBDA_ENV.regionEndpoints,
]);

function matching(pattern: RegExp, what: string) {
  return z.string().check(z.regex(pattern, `is not ${what}`));
}

/** A JSON document read by `read`, which throws on what it refuses. */
function json<T>(what: string, read: (value: unknown) => T) {
  return z.pipe(
    z.string(),
    z.transform((raw: string, ctx) => {
      try {
        return read(JSON.parse(raw));
      } catch (error) {
        ctx.issues.push({
          code: 'custom',
          input: raw,
          message: `is not ${what} (${(error as Error).message})`,
        });
        return z.NEVER;
      }
    }),
  );
}

function urlsByRegion(value: unknown): Readonly<Record<string, string>> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
  for (const [region, url] of Object.entries(value)) {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error(`${region} is not a URL`);
  }
  return Object.freeze({ ...(value as Record<string, string>) });
}

const regionId = () => matching(REGION_ID_PATTERN, 'a region id');
const tableName = () => matching(/^[A-Za-z0-9_.-]{3,255}$/, 'a table name');

/**
 * What the environment gives a function, need by need: each need's variables and their schemas.
 * `region` gives its region's tables, on which every table-backed port is built. Each need's schemas
 * are built when first asked for: a function parses its own needs once, at its cold start, and never
 * the others'.
 */
const NEEDS = {
  region: () => ({
    [LAMBDA_ENV.regionId]: regionId(),
    [LAMBDA_ENV.tableName]: tableName(),
    [LAMBDA_ENV.deploymentFacts]: z.optional(json('deployment facts', parseDeploymentFacts)),
  }),
  witness: () => ({
    [LAMBDA_ENV.witnessId]: matching(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'a witness id'),
    [LAMBDA_ENV.tableName]: tableName(),
  }),
  events: () => ({ [LAMBDA_ENV.eventBus]: matching(/^[A-Za-z0-9._\-/:]{1,256}$/, 'a bus name') }),
  workflow: () => ({
    [LAMBDA_ENV.failoverStateMachineArn]: matching(
      /^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+$/,
      'a state machine ARN',
    ),
  }),
  endpoints: () => ({
    [LAMBDA_ENV.regionEndpoints]: json('a JSON object of URLs', urlsByRegion),
    [LAMBDA_ENV.endpointParameter]: z.optional(
      matching(/^\/[A-Za-z0-9_.\-/]*\{region\}[A-Za-z0-9_.\-/]*$/, 'an SSM parameter name with {region}'),
    ),
  }),
  archive: () => ({
    [LAMBDA_ENV.auditBucket]: z.optional(matching(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name')),
  }),
} as const;

type NeedShape<N extends Need> = ReturnType<(typeof NEEDS)[N]>;

const shapes = new Map<Need, Readonly<Record<string, z.ZodMiniType>>>();

/** Need `need`'s variables and their schemas, built once. */
function shapeOf<N extends Need>(need: N): NeedShape<N> {
  let shape = shapes.get(need);
  if (!shape) {
    shape = NEEDS[need]();
    shapes.set(need, shape);
  }
  return shape as NeedShape<N>;
}

export type Need = keyof typeof NEEDS;

/** The need each port is built from; a port not listed is built on the region's tables. */
const PORT_NEED = { events: 'events', workflow: 'workflow', probe: 'endpoints', archive: 'archive' } as const;

type NeedOfPort<P extends PortName> = P extends keyof typeof PORT_NEED ? (typeof PORT_NEED)[P] : 'region';

/** A witness's probe (functions/health-probe's `witnessHandler`): no region of its own. */
export const WITNESS_PROBE = 'witness-probe';

/** Every Lambda function the root builds deps for: the regional ones and the witness probe. */
export type LambdaFunction = WiredFunction | typeof WITNESS_PROBE;

/** What function `F` needs of the environment. */
export type NeedsOf<F extends LambdaFunction> = F extends WiredFunction
  ? 'region' | NeedOfPort<(typeof FUNCTION_PORTS)[F][number]>
  : 'witness' | 'endpoints';

type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void
  ? I
  : never;

type NeedEnvironment<N extends Need> = z.output<z.ZodMiniObject<NeedShape<N>>>;

/** The parsed variables of the needs `N`, by variable name. */
export type Environment<N extends Need> = Readonly<UnionToIntersection<{ [K in N]: NeedEnvironment<K> }[N]>>;

/** The needs of function `name`, in a fixed order. */
export function needsOf(name: LambdaFunction): readonly Need[] {
  if (name === WITNESS_PROBE) return ['witness', 'endpoints'];
  const ports: readonly PortName[] = FUNCTION_PORTS[name];
  const needs = new Set<Need>(['region', ...ports.map((port) => needOfPort(port))]);
  return (Object.keys(NEEDS) as Need[]).filter((need) => needs.has(need));
}

function needOfPort(port: PortName): Need {
  return port in PORT_NEED ? PORT_NEED[port as keyof typeof PORT_NEED] : 'region';
}

/** The variables function `name` reads: `required` must be set, `optional` may be. */
export function variablesOf(name: LambdaFunction): {
  readonly required: readonly string[];
  readonly optional: readonly string[];
} {
  const all = [...new Set(needsOf(name).flatMap((need) => Object.keys(shapeOf(need))))];
  return { required: all.filter((v) => !OPTIONAL.has(v)), optional: all.filter((v) => OPTIONAL.has(v)) };
}

/** The schema of the needs' variables (one object; variables of no need are ignored). */
function schemaOf(needs: readonly Need[]) {
  return z.object(Object.assign({}, ...needs.map((need) => shapeOf(need))) as Record<string, z.ZodMiniType>);
}

/**
 * Parses the variables of `needs` from `env`; every missing or malformed one is named with why, in
 * one error. `what` names the function in that error.
 */
export function parseNeeds<N extends Need>(
  needs: readonly N[],
  env: Readonly<Record<string, string | undefined>>,
  what = 'Lambda environment',
): Environment<N> {
  // An optional variable set to the empty string is unset (CloudFormation cannot remove one).
  const given = Object.fromEntries(
    Object.entries(env).filter(
      ([name, value]) => value !== undefined && !(OPTIONAL.has(name) && value === ''),
    ),
  );
  return parseWith(schemaOf(needs), given, what) as Environment<N>;
}

/** `given` parsed by `schema`, or one error naming every variable at fault and why. */
function parseWith(
  schema: z.ZodMiniType,
  given: Readonly<Record<string, string | undefined>>,
  what: string,
): Readonly<Record<string, unknown>> {
  // Parsed once per container: zod's generated fast path (`new Function`) would never be reused.
  const parsed = schema.safeParse(given, { jitless: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const value = given[name];
      if (value === undefined) return `${name} is not set`;
      return JSON_VALUED.has(name) ? `${name} ${issue.message}` : `${name} "${value}" ${issue.message}`;
    });
    throw new Error(`invalid ${what}: ${problems.join('; ')}`);
  }
  return Object.freeze(parsed.data as Record<string, unknown>);
}

/** Parses what function `name` needs of `env` (see parseNeeds). */
export function parseFunctionEnvironment<F extends LambdaFunction>(
  name: F,
  env: Readonly<Record<string, string | undefined>>,
): Environment<NeedsOf<F>> {
  return parseNeeds(needsOf(name) as readonly NeedsOf<F>[], env, `Lambda environment of ${name}`);
}
