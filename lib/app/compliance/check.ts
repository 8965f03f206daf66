/**
 * `POST /v1/compliance/check`: the spec's enforce_data_residency as an answer, not a script. Which
 * regions may hold data of a classification from a location, the verdict for a target region, and
 * every reason; the same rules the router and the failover apply (lib/core/compliance/rules.ts).
 * A transfer that rests on an approval is recorded as a use of that approval.
 */
import { randomUUID } from 'node:crypto';
import {
  assessCompliance,
  type ComplianceQuery,
  type ComplianceReason,
  jurisdictionsOf,
  normalizeFrameworkName,
  originOf,
  type PlacementBasis,
  type RegionVerdict,
} from '../../core/compliance/rules.ts';
import type { DataClassification } from '../../core/compliance/types.ts';
import { type FieldIssue, ValidationError } from '../../core/errors.ts';
import { isoSeconds } from '../../core/time.ts';
import { COMPLIANCE_FRAMEWORKS } from '../../core/topology/types.ts';
import type { DepsWith, RegionBasics } from '../deps.ts';
import type { ComplianceCheckRequest } from './request.ts';

interface RegionCompliance {
  readonly region: string;
  readonly compliant: boolean;
  /** How the data may be there (absent when residency or transfer rules forbid it). */
  readonly basis?: PlacementBasis;
  readonly reasons: readonly ComplianceReason[];
  /** Jurisdictions whose transfer rule only the approval met. */
  readonly approval_for?: readonly string[];
}

interface ComplianceCheckAnswer {
  readonly check_id: string;
  readonly task_id?: string;
  readonly data_classification: DataClassification;
  readonly user_location: string;
  readonly origin: {
    readonly label: string;
    readonly countries: readonly string[];
    readonly jurisdictions: readonly string[];
  };
  readonly frameworks: readonly string[];
  /** The deployment facts judged (`aws`, `local`, `local-stand-in`, `unknown`). */
  readonly deployment: string;
  /** The target's verdict when a target is given; otherwise whether any region complies. */
  readonly compliant: boolean;
  readonly compliant_regions: readonly string[];
  /** Every region, in topology order. */
  readonly regions: readonly RegionCompliance[];
  readonly target?: RegionCompliance;
  readonly approval?: {
    readonly approval_ref: string;
    /** Regions this approval makes compliant. */
    readonly needed_by: readonly string[];
    /** Recorded when the target was reached through it. */
    readonly recorded: boolean;
    readonly use_id?: string;
  };
}

function view(verdict: RegionVerdict): RegionCompliance {
  return {
    region: verdict.region,
    compliant: verdict.compliant,
    ...(verdict.basis === undefined ? {} : { basis: verdict.basis }),
    reasons: verdict.reasons,
    ...(verdict.approval_for.length > 0 ? { approval_for: verdict.approval_for } : {}),
  };
}

/** Checks the request against the topology (shapes are already checked); every problem at once. */
function resolve(deps: Pick<RegionBasics, 'topology'>, request: ComplianceCheckRequest): ComplianceQuery {
  const { topology } = deps;
  const issues: FieldIssue[] = [];
  const origin = originOf(topology, request.user_location);
  if (!origin) {
    issues.push({
      field: 'user_location',
      reason: `"${request.user_location}" is neither an ISO 3166-1 alpha-2 code nor a group of the topology (${Object.keys(
        topology.country_groups,
      ).join(', ')})`,
    });
  }
  if (
    request.target_region !== undefined &&
    !topology.regions.some((r) => r.region_id === request.target_region)
  ) {
    issues.push({
      field: 'target_region',
      reason: `unknown region "${request.target_region}"; known: ${topology.regions.map((r) => r.region_id).join(', ')}`,
    });
  }
  const frameworks = (request.frameworks ?? []).map(normalizeFrameworkName);
  frameworks.forEach((framework, i) => {
    if (!(COMPLIANCE_FRAMEWORKS as readonly string[]).includes(framework)) {
      issues.push({
        field: `frameworks[${i}]`,
        reason: `unknown compliance framework "${request.frameworks?.[i]}"; known: ${COMPLIANCE_FRAMEWORKS.join(', ')}`,
      });
    }
  });
  if (issues.length > 0 || !origin) throw new ValidationError('invalid compliance check', issues);
  return {
    data_classification: request.data_classification,
    origin,
    frameworks: [...new Set(frameworks)],
    ...(request.approval_ref === undefined ? {} : { approval_ref: request.approval_ref }),
  };
}

export async function checkCompliance(
  deps: Omit<DepsWith<'deployment' | 'compliance'>, 'state'>,
  request: ComplianceCheckRequest,
): Promise<ComplianceCheckAnswer> {
  const { topology } = deps;
  const query = resolve(deps, request);
  const assessment = assessCompliance(topology, query, deps.deployment);
  const verdicts = topology.regions.map((r) => assessment.get(r.region_id) as RegionVerdict);
  const target = request.target_region === undefined ? undefined : assessment.get(request.target_region);
  const checkId = `check-${randomUUID()}`;

  let approval: ComplianceCheckAnswer['approval'];
  if (query.approval_ref !== undefined) {
    const neededBy = verdicts.filter((v) => v.compliant && v.approval_for.length > 0).map((v) => v.region);
    let useId: string | undefined;
    if (target?.compliant && target.approval_for.length > 0) {
      useId =
        request.task_id === undefined ? `check:${checkId}` : `check:${request.task_id}->${target.region}`;
      await deps.compliance.recordApproval({
        approval_ref: query.approval_ref,
        use_id: useId,
        ...(request.task_id === undefined ? {} : { task_id: request.task_id }),
        data_classification: query.data_classification,
        user_location: request.user_location,
        jurisdictions: target.approval_for,
        target_region: target.region,
        recorded_at: isoSeconds(deps.clock.now()),
        recorded_by: deps.regionId,
      });
    }
    approval = {
      approval_ref: query.approval_ref,
      needed_by: neededBy,
      recorded: useId !== undefined,
      ...(useId === undefined ? {} : { use_id: useId }),
    };
  }

  return {
    check_id: checkId,
    ...(request.task_id === undefined ? {} : { task_id: request.task_id }),
    data_classification: query.data_classification,
    user_location: request.user_location,
    origin: {
      label: query.origin.label,
      countries: query.origin.countries,
      jurisdictions: jurisdictionsOf(topology, query.origin),
    },
    frameworks: query.frameworks ?? [],
    deployment: deps.deployment?.source ?? 'unknown',
    compliant: target ? target.compliant : verdicts.some((v) => v.compliant),
    compliant_regions: verdicts.filter((v) => v.compliant).map((v) => v.region),
    regions: verdicts.map(view),
    ...(target ? { target: view(target) } : {}),
    ...(approval ? { approval } : {}),
  };
}
