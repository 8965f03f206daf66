import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { probeRequestPaths } from '../core/health/probe-bundle.ts';
import { regionalApiName } from './dns-plan.ts';
import { acknowledgeWildcardResources } from './nag.ts';

export interface RegionEndpointsProps {
  /** Every topology region, in topology order. */
  readonly regionIds: readonly string[];
  /** `/<name>/api-url/`: each region's stack writes its API URL to this prefix + its region id. */
  readonly parameterPrefix: string;
  /** With regional DNS deployed: every region is `https://<region>.api.<domain>`, known at synth. */
  readonly domain?: string;
  /** This stack's own API (region id and base URL token), known without DNS. */
  readonly ownApi?: { readonly regionId: string; readonly url: string };
  /** The paths the probe GETs on each region (failover_policies.health_check.endpoints). */
  readonly probedPaths: readonly string[];
}

/**
 * Where each region's API is, for the probes, without cross-region references.
 *
 * With a domain and its zone (regional DNS deployed) every URL is deterministic:
 * `https://<region>.api.<domain>`. Without one, API ids are assigned at deploy time in each region's
 * own stack; that stack writes its URL to the SSM parameter `/<name>/api-url/<region>` in its region,
 * and the probe reads the parameters of the regions it lacks at run time (cross-region GetParameter,
 * cached per container). Caveat of the SSM path: a probe container that starts while a region's SSM
 * is down cannot find that region and counts it unreachable; set a domain in production.
 */
export class RegionEndpoints extends Construct {
  /** Region -> base URL (no trailing slash) for the regions known at synth. */
  readonly known: Readonly<Record<string, string>>;
  /** Regions to discover through SSM at run time. */
  readonly discovered: readonly string[];
  /** `/<name>/api-url/{region}` when some region must be discovered, else undefined. */
  readonly parameterTemplate: string | undefined;
  readonly #props: RegionEndpointsProps;

  constructor(scope: Construct, id: string, props: RegionEndpointsProps) {
    super(scope, id);
    if (!/^\/[A-Za-z0-9_.\-/]+\/$/.test(props.parameterPrefix)) {
      throw new Error(
        `RegionEndpoints: parameterPrefix must look like /name/api-url/, got ${props.parameterPrefix}`,
      );
    }
    for (const path of props.probedPaths) {
      if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path)) throw new Error(`RegionEndpoints: bad probed path ${path}`);
    }
    this.#props = props;
    const known: Record<string, string> = {};
    for (const regionId of props.regionIds) {
      if (props.domain !== undefined) known[regionId] = `https://${regionalApiName(props.domain, regionId)}`;
      else if (props.ownApi?.regionId === regionId) known[regionId] = props.ownApi.url;
    }
    this.known = Object.freeze(known);
    this.discovered = Object.freeze(props.regionIds.filter((r) => !(r in known)));
    this.parameterTemplate = this.discovered.length > 0 ? `${props.parameterPrefix}{region}` : undefined;
  }

  /** CORTEX_REGION_ENDPOINTS: the known URLs as one JSON object (tokens resolved by CloudFormation). */
  endpointsJson(): string {
    return Stack.of(this).toJsonString(this.known);
  }

  /** The SSM parameter name holding `regionId`'s API URL. */
  parameterName(regionId: string): string {
    return `${this.#props.parameterPrefix}${regionId}`;
  }

  /**
   * Lets `grantee` probe `targets`: ssm:GetParameter on the URL parameters it must discover, and
   * execute-api:Invoke only for `GET` of the probed paths in those regions (with `rounds`, for a
   * probe of whole rounds, their bundle too). The API id in the ARN is
   * `*`: it is assigned at deploy time by each region's own stack and unknown to the others.
   */
  grantProbe(
    grantee: iam.IGrantable,
    targets: readonly string[],
    options: { readonly rounds?: boolean } = {},
  ): void {
    const stack = Stack.of(this);
    const unknownTargets = targets.filter((t) => !this.#props.regionIds.includes(t));
    if (unknownTargets.length > 0) {
      throw new Error(`RegionEndpoints.grantProbe: not topology regions: ${unknownTargets.join(', ')}`);
    }
    const discover = targets.filter((t) => this.discovered.includes(t));
    if (discover.length > 0) {
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['ssm:GetParameter'],
          resources: discover.map((regionId) =>
            stack.formatArn({
              service: 'ssm',
              region: regionId,
              resource: 'parameter',
              // formatArn joins with '/': the parameter name's own leading '/' is dropped.
              resourceName: this.parameterName(regionId).slice(1),
            }),
          ),
        }),
      );
    }
    // A prober of whole rounds asks for their bundle, and each path on its own too: a peer whose API
    // predates the bundle answers it 404 and is asked path by path (lib/adapters/aws/http-probe.ts).
    const probed = this.#props.probedPaths;
    const paths = options.rounds ? [...new Set([...probeRequestPaths(probed), ...probed])] : [...probed];
    if (targets.length > 0 && paths.length > 0) {
      const routes = targets.flatMap((regionId) =>
        paths.map((path) =>
          stack.formatArn({
            service: 'execute-api',
            region: regionId,
            resource: '*',
            resourceName: `*/GET${path}`,
          }),
        ),
      );
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['execute-api:Invoke'], resources: routes }),
      );
      if (grantee instanceof Construct) {
        acknowledgeWildcardResources(
          grantee,
          routes,
          "Probes call GET of the policy's endpoints on each peer region's HTTP API. The API id and stage are '*': each region's stack creates its API, so the id is unknown to the others without cross-region references; region, method and path are fixed.",
        );
      }
    }
  }
}
