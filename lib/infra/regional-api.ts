import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  HttpStage,
  type IHttpRouteAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { ApiRoute, Concern } from '../app/routes.ts';

export interface ApiThrottle {
  /** Steady-state requests per second for the whole stage. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface RegionalApiProps {
  readonly apiName: string;
  /** One route per entry (API_ROUTES); `auth: 'iam'` needs SigV4, `none` is open. */
  readonly routes: readonly ApiRoute[];
  /** The function serving each concern; every route's concern must have one. */
  readonly handlers: Readonly<Partial<Record<Concern, lambda.IFunction>>>;
  /** @default 50 requests/s, burst 100 */
  readonly throttle?: ApiThrottle;
  /** @default one month */
  readonly accessLogRetention?: logs.RetentionDays;
}

const DEFAULT_THROTTLE: ApiThrottle = { rateLimit: 50, burstLimit: 100 };

/**
 * One JSON line per request; HTTP API context variables. Strings throughout: a variable without a
 * value renders as `-`, which would break an unquoted number.
 */
/**
 * One line a request, kept short: peers' probes and latency samples make about 1.6 million a month
 * in the default deployment, billed per GB ingested. The time in epoch ms (13 characters, not a
 * 26-character date); the function's own latency is its Lambda duration, not logged twice.
 */
const ACCESS_LOG_FORMAT = JSON.stringify({
  id: '$context.requestId',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.caller',
  at: '$context.requestTimeEpoch',
  route: '$context.routeKey',
  status: '$context.status',
  ms: '$context.responseLatency',
  error: '$context.integrationErrorMessage',
  bytes: '$context.responseLength',
});

/**
 * A region's HTTP API (API Gateway v2): one route per public route, Lambda proxy integrations
 * (payload format 2.0), IAM auth where required, a throttled `$default` stage with JSON access logs.
 */
export class RegionalApi extends Construct {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly accessLogGroup: logs.LogGroup;
  /** Base URL of the `$default` stage, ending in `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: RegionalApiProps) {
    super(scope, id);
    const throttle = props.throttle ?? DEFAULT_THROTTLE;
    validateProps(props, throttle);

    this.api = new HttpApi(this, 'HttpApi', {
      apiName: props.apiName,
      description: 'Cortex regional control plane API',
      // Our own $default stage below carries throttling and access logs.
      createDefaultStage: false,
    });
    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    this.url = this.stage.url;

    const iamAuthorizer = new HttpIamAuthorizer();
    const noAuthorizer = new HttpNoneAuthorizer();
    const integrations = new Map<Concern, HttpLambdaIntegration>();
    for (const route of props.routes) {
      let integration = integrations.get(route.concern);
      if (!integration) {
        // Validated above: every concern has a handler.
        const handler = props.handlers[route.concern] as lambda.IFunction;
        integration = new HttpLambdaIntegration(`${route.concern}Integration`, handler);
        integrations.set(route.concern, integration);
      }
      const authorizer: IHttpRouteAuthorizer = route.auth === 'iam' ? iamAuthorizer : noAuthorizer;
      const [httpRoute] = this.api.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer,
      });
      if (route.auth === 'none' && httpRoute) {
        Validations.of(httpRoute).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${route.path} is deliberately unauthenticated: Route 53 health checkers and liveness probes cannot sign requests; it reveals only serving status.`,
        });
      }
    }
  }
}

const LITERAL_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const PARAMETER_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const GREEDY_SEGMENT = /^\{[A-Za-z_][A-Za-z0-9_]*\+\}$/;

/**
 * Why `path` is no HTTP API route path, or undefined: `/` then segments, each a literal, a `{name}`
 * parameter or, last only, a greedy `{name+}` (API Gateway accepts it nowhere else).
 */
function routePathProblem(path: string): string | undefined {
  if (path === '/') return undefined;
  if (!path.startsWith('/') || path.endsWith('/')) return 'path must start with / and not end with /';
  const segments = path.slice(1).split('/');
  for (const [i, segment] of segments.entries()) {
    if (GREEDY_SEGMENT.test(segment)) {
      if (i !== segments.length - 1) return `greedy ${segment} must be the last segment`;
    } else if (!LITERAL_SEGMENT.test(segment) && !PARAMETER_SEGMENT.test(segment)) {
      return `segment ${JSON.stringify(segment)} is neither a literal, {name} nor a last {name+}`;
    }
  }
  return undefined;
}

function validateProps(props: RegionalApiProps, throttle: ApiThrottle): void {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(props.apiName)) problems.push(`apiName is invalid: ${props.apiName}`);
  if (props.routes.length === 0) problems.push('routes must not be empty');
  const keys = new Set<string>();
  for (const route of props.routes) {
    const key = `${route.method} ${route.path}`;
    const pathProblem = routePathProblem(route.path);
    if (pathProblem) problems.push(`${key}: ${pathProblem}`);
    if (keys.has(key)) problems.push(`${key}: duplicate route`);
    keys.add(key);
    if (!props.handlers[route.concern]) problems.push(`${key}: no handler for concern ${route.concern}`);
  }
  for (const [name, value] of Object.entries(throttle)) {
    if (!Number.isInteger(value) || value < 1)
      problems.push(`throttle.${name} must be a positive integer, got ${value}`);
  }
  if (problems.length > 0) throw new Error(`RegionalApi ${props.apiName}: ${problems.join('; ')}`);
}
