/**
 * The daily operations report (the spec's Operational Procedures: health, replication lag, latency,
 * capacity, compliance, cost): each check's findings and verdict from plain readings, and the
 * report's overall status. The use case (lib/app/ops/daily-report.ts) gathers the readings from the
 * existing use cases; this file only judges them.
 */

type CheckStatus = 'ok' | 'warning' | 'critical' | 'unknown';

export const REPORT_ID_PATTERN = /^ops-[a-z]{2}(-[a-z]+)+-\d-\d{8}T\d{6}Z$/;

export interface Check<T> {
  readonly status: CheckStatus;
  /** One line per thing an operator should look at (empty when all is well). */
  readonly findings: readonly string[];
  /** The reading the verdict came from; absent when it could not be read. */
  readonly data?: T;
  /** Why the reading failed (status `unknown`). */
  readonly error?: string;
}

interface HealthReading {
  readonly regions: readonly {
    readonly region: string;
    readonly status: string;
    readonly serving: boolean;
    readonly epoch: number;
    /** The observers' majority (healthy, saturated, unhealthy, unreachable). */
    readonly health: string;
    readonly action: string;
  }[];
}

interface ReplicationLagReading {
  readonly pairs: readonly {
    readonly source: string;
    readonly replica: string;
    readonly status: string;
    readonly lag_seconds: number | null;
  }[];
  readonly unreachable: readonly string[];
}

interface LatencyReading {
  readonly pairs: readonly {
    readonly from: string;
    readonly to: string;
    readonly ms: number;
    readonly source: string;
    readonly breaches: readonly string[];
  }[];
}

interface CapacityReading {
  readonly regions: readonly {
    readonly region: string;
    readonly level: 'normal' | 'warning' | 'critical';
    readonly utilization: number;
  }[];
}

interface ComplianceReading {
  /** The newest audit of each region in the last day, summarized. */
  readonly audits: readonly {
    readonly audit_id: string;
    readonly region: string;
    readonly status: string;
    readonly compliance_score: number;
    readonly total_violations: number;
    readonly audit_date: string;
  }[];
  /** Regions without an audit in the last day. */
  readonly missing: readonly string[];
}

export interface CostReading {
  /** `estimate`: figures of the cost model; `unavailable`: none at run time (why in `basis`). */
  readonly source: 'estimate' | 'carried' | 'unavailable';
  readonly total_usd?: number;
  readonly computed_at?: string;
  readonly price_book?: string;
  readonly basis: string;
}

export interface DailyReport {
  readonly report_id: string;
  /** The region that gathered it, from its own replica. */
  readonly region: string;
  /** UTC day the report is for (YYYY-MM-DD). */
  readonly date: string;
  readonly generated_at: string;
  readonly trigger: 'scheduled' | 'manual';
  /** The worst check's status (`unknown` counts as warning). */
  readonly status: 'ok' | 'warning' | 'critical';
  readonly checks: {
    readonly health: Check<HealthReading>;
    readonly replication: Check<ReplicationLagReading>;
    readonly latency: Check<LatencyReading>;
    readonly capacity: Check<CapacityReading>;
    readonly compliance: Check<ComplianceReading>;
    readonly cost: Check<CostReading>;
  };
  /** Emergency shutdowns still open. */
  readonly open_incidents: readonly string[];
}

export function reportIdFor(region: string, now: number): string {
  const compact = new Date(now)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `ops-${region}-${compact}`;
}

/** A reading that failed: the check says so rather than the whole report failing. */
export function unreadable<T>(error: string): Check<T> {
  return { status: 'unknown', findings: [`could not be read: ${error}`], error };
}

export function judgeHealth(reading: HealthReading): Check<HealthReading> {
  const findings: string[] = [];
  let status: CheckStatus = 'ok';
  for (const r of reading.regions) {
    if (r.status === 'shutdown') {
      findings.push(`${r.region} is shut down by an operator: ${r.action}`);
      status = worse(status, 'warning');
    } else if (!r.serving) {
      findings.push(`${r.region} is ${r.status} (epoch ${r.epoch}): ${r.action}`);
      status = worse(status, 'critical');
    } else if (r.health !== 'healthy') {
      findings.push(`${r.region} is seen ${r.health}: ${r.action}`);
      status = worse(status, r.health === 'saturated' ? 'warning' : 'critical');
    }
  }
  if (!reading.regions.some((r) => r.serving)) status = 'critical';
  return { status, findings, data: reading };
}

export function judgeReplication(reading: ReplicationLagReading): Check<ReplicationLagReading> {
  const findings: string[] = [];
  let status: CheckStatus = 'ok';
  for (const p of reading.pairs) {
    if (p.status === 'ok') continue;
    const lag = p.lag_seconds === null ? 'lag unknown' : `${p.lag_seconds} s behind`;
    findings.push(`${p.source} -> ${p.replica}: ${p.status} (${lag})`);
    status = worse(status, p.status === 'alert' ? 'critical' : 'warning');
  }
  for (const region of reading.unreachable) {
    findings.push(`${region}'s replica could not be read`);
    status = worse(status, 'warning');
  }
  return { status, findings, data: reading };
}

export function judgeLatency(reading: LatencyReading): Check<LatencyReading> {
  const findings = reading.pairs
    .filter((p) => p.breaches.length > 0)
    .map((p) => `${p.from} -> ${p.to}: ${p.breaches.join(', ')}`);
  return { status: findings.length > 0 ? 'warning' : 'ok', findings, data: reading };
}

export function judgeCapacity(reading: CapacityReading): Check<CapacityReading> {
  const findings: string[] = [];
  let status: CheckStatus = 'ok';
  for (const r of reading.regions) {
    if (r.level === 'normal') continue;
    findings.push(`${r.region} is at ${Math.round(r.utilization * 100)} % (${r.level})`);
    status = worse(status, r.level);
  }
  return { status, findings, data: reading };
}

export function judgeCompliance(reading: ComplianceReading): Check<ComplianceReading> {
  const findings: string[] = [];
  let status: CheckStatus = 'ok';
  for (const a of reading.audits) {
    if (a.total_violations === 0) continue;
    findings.push(
      `${a.region}: ${a.total_violations} violation(s) in ${a.audit_id} (score ${a.compliance_score})`,
    );
    status = worse(status, 'critical');
  }
  for (const region of reading.missing) {
    findings.push(`${region} has no compliance audit in the last day`);
    status = worse(status, 'warning');
  }
  return { status, findings, data: reading };
}

export function judgeCost(reading: CostReading): Check<CostReading> {
  if (reading.source === 'unavailable')
    return { status: 'unknown', findings: [reading.basis], data: reading };
  return { status: 'ok', findings: [], data: reading };
}

/** The report's status: the worst check, an unreadable one counting as a warning. */
export function overallStatus(checks: DailyReport['checks']): DailyReport['status'] {
  let status: 'ok' | 'warning' | 'critical' = 'ok';
  for (const check of Object.values(checks)) {
    // The cost figure is informative: not having one at run time is not an operational warning.
    if (check === checks.cost) continue;
    if (check.status === 'critical') return 'critical';
    if (check.status === 'warning' || check.status === 'unknown') status = 'warning';
  }
  return status;
}

const RANK: Readonly<Record<CheckStatus, number>> = { ok: 0, unknown: 1, warning: 2, critical: 3 };

function worse(a: CheckStatus, b: CheckStatus): CheckStatus {
  return RANK[b] > RANK[a] ? b : a;
}
