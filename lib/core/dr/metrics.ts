/**
 * RTO per service tier and RPO per data class, measured against the objectives, and the verdict a
 * runbook or a drill reports. Times are epoch ms given by the caller (the simulated clock locally).
 */
import {
  DATA_CLASSES,
  type DataClass,
  type DataType,
  DR_OBJECTIVES,
  type DrObjectives,
  SERVICE_TIERS,
  type Service,
  type ServiceTier,
} from './objectives.ts';

interface ServiceRecovery {
  readonly service: Service;
  /** Seconds from the failure until it served again; null when it never did. */
  readonly downtime_seconds: number | null;
}

export interface TierRto {
  readonly tier: ServiceTier;
  readonly services: readonly ServiceRecovery[];
  /** The slowest service of the tier; null when one never recovered. */
  readonly downtime_seconds: number | null;
  readonly objective_seconds: number;
  readonly met: boolean;
}

interface DataLoss {
  readonly data_type: DataType;
  /** The data-loss window, seconds; null when it is unknown (nothing to compare with arrived). */
  readonly loss_seconds: number | null;
}

export interface ClassRpo {
  readonly data_class: DataClass;
  readonly data_types: readonly DataLoss[];
  /** The widest window of the class; null when one is unknown. */
  readonly loss_seconds: number | null;
  readonly objective_seconds: number;
  readonly met: boolean;
}

function seconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/**
 * RTO per tier: `restoredAt[service]` is when the service served again (epoch ms), null when it
 * never did, absent when it was never down. A time before the failure counts as no downtime.
 */
export function rtoByTier(
  failureAtMs: number,
  restoredAt: Readonly<Partial<Record<Service, number | null>>>,
  objectives: DrObjectives = DR_OBJECTIVES,
): TierRto[] {
  return SERVICE_TIERS.map((tier) => {
    const objective = objectives.rto[tier];
    const services = objective.services.map((service): ServiceRecovery => {
      const at = restoredAt[service];
      if (at === null) return { service, downtime_seconds: null };
      return { service, downtime_seconds: at === undefined ? 0 : seconds(Math.max(0, at - failureAtMs)) };
    });
    const downtime = services.some((s) => s.downtime_seconds === null)
      ? null
      : Math.max(0, ...services.map((s) => s.downtime_seconds as number));
    const objectiveSeconds = objective.max_downtime_minutes * 60;
    return {
      tier,
      services,
      downtime_seconds: downtime,
      objective_seconds: objectiveSeconds,
      met: downtime !== null && downtime <= objectiveSeconds,
    };
  });
}

/**
 * RPO per data class: `lossSeconds[type]` is the window of acknowledged writes of that type the
 * survivors lack, null when unknown, absent when nothing of that type was lost.
 */
export function rpoByClass(
  lossSeconds: Readonly<Partial<Record<DataType, number | null>>>,
  objectives: DrObjectives = DR_OBJECTIVES,
): ClassRpo[] {
  return DATA_CLASSES.map((dataClass) => {
    const objective = objectives.rpo[dataClass];
    const dataTypes = objective.data_types.map((dataType): DataLoss => {
      const loss = lossSeconds[dataType];
      return { data_type: dataType, loss_seconds: loss === undefined ? 0 : loss };
    });
    const loss = dataTypes.some((d) => d.loss_seconds === null)
      ? null
      : Math.max(0, ...dataTypes.map((d) => d.loss_seconds as number));
    return {
      data_class: dataClass,
      data_types: dataTypes,
      loss_seconds: loss,
      objective_seconds: objective.max_data_loss_seconds,
      met: loss !== null && loss <= objective.max_data_loss_seconds,
    };
  });
}

/** The window of lost writes: from the oldest acknowledged write lost to the failure, seconds. */
export function lossWindowSeconds(failureAtMs: number, lostAckedAtMs: readonly number[]): number {
  if (lostAckedAtMs.length === 0) return 0;
  return seconds(Math.max(0, failureAtMs - Math.min(...lostAckedAtMs)));
}

interface PhaseTiming {
  readonly phase: string;
  readonly started_at: number;
  readonly ended_at: number;
  readonly seconds: number;
}

/** Each phase's span (first start to last end) from the timed steps, in the order phases began. */
export function phaseTimings(
  steps: readonly { readonly phase: string; readonly started_at: number; readonly ended_at: number }[],
): PhaseTiming[] {
  const byPhase = new Map<string, { started_at: number; ended_at: number }>();
  for (const step of steps) {
    const seen = byPhase.get(step.phase);
    byPhase.set(
      step.phase,
      seen
        ? {
            started_at: Math.min(seen.started_at, step.started_at),
            ended_at: Math.max(seen.ended_at, step.ended_at),
          }
        : { started_at: step.started_at, ended_at: step.ended_at },
    );
  }
  return [...byPhase]
    .map(([phase, span]) => ({ phase, ...span, seconds: seconds(span.ended_at - span.started_at) }))
    .sort((a, b) => a.started_at - b.started_at);
}

interface IntegrityFigures {
  /** Acknowledged writes checked. */
  readonly acknowledged: number;
  /** Of those, present and equal in every survivor. */
  readonly intact: number;
}

interface DrVerdictInput {
  readonly rto: readonly TierRto[];
  readonly rpo: readonly ClassRpo[];
  readonly integrity?: IntegrityFigures;
  /** Handoffs found where their residency forbids them. */
  readonly residency_violations?: number;
  /** Further named failures (a runbook step that failed, an end-to-end check that never passed). */
  readonly failures?: readonly string[];
}

export interface DrVerdict {
  readonly rto_achievement: number;
  readonly rpo_achievement: number;
  /** 1 when nothing was checked. */
  readonly data_integrity: number;
  readonly met: boolean;
  /** Each objective missed, named with its figure and its target. */
  readonly misses: readonly string[];
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 1 : Math.round((part / whole) * 10_000) / 10_000;
}

function figure(value: number | null, unit: string): string {
  return value === null ? 'never' : `${value} ${unit}`;
}

/** Judges measured figures against the objectives and the success criteria; every miss named. */
export function judgeDr(input: DrVerdictInput, objectives: DrObjectives = DR_OBJECTIVES): DrVerdict {
  const misses: string[] = [];
  for (const tier of input.rto) {
    if (tier.met) continue;
    const slowest = tier.services.filter(
      (s) => s.downtime_seconds === null || s.downtime_seconds > tier.objective_seconds,
    );
    misses.push(
      `RTO ${tier.tier}: ${figure(tier.downtime_seconds, 's')} > ${tier.objective_seconds} s (${slowest
        .map((s) => `${s.service} ${figure(s.downtime_seconds, 's')}`)
        .join(', ')})`,
    );
  }
  for (const dataClass of input.rpo) {
    if (dataClass.met) continue;
    misses.push(
      `RPO ${dataClass.data_class}: ${figure(dataClass.loss_seconds, 's')} > ${dataClass.objective_seconds} s`,
    );
  }
  const rtoAchievement = ratio(input.rto.filter((t) => t.met).length, input.rto.length);
  const rpoAchievement = ratio(input.rpo.filter((c) => c.met).length, input.rpo.length);
  const integrity = input.integrity ? ratio(input.integrity.intact, input.integrity.acknowledged) : 1;
  const criteria = objectives.success_criteria;
  if (rtoAchievement < criteria.rto_achievement)
    misses.push(`rto_achievement: ${rtoAchievement} < ${criteria.rto_achievement}`);
  if (rpoAchievement < criteria.rpo_achievement)
    misses.push(`rpo_achievement: ${rpoAchievement} < ${criteria.rpo_achievement}`);
  if (integrity < criteria.data_integrity) {
    const lost = (input.integrity?.acknowledged ?? 0) - (input.integrity?.intact ?? 0);
    misses.push(
      `data_integrity: ${integrity} < ${criteria.data_integrity} (${lost} acknowledged write(s) not intact)`,
    );
  }
  if ((input.residency_violations ?? 0) > 0)
    misses.push(`residency: ${input.residency_violations} handoff(s) where their residency forbids`);
  for (const failure of input.failures ?? []) misses.push(failure);
  return {
    rto_achievement: rtoAchievement,
    rpo_achievement: rpoAchievement,
    data_integrity: integrity,
    met: misses.length === 0,
    misses,
  };
}
