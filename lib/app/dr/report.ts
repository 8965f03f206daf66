/** A drill's report: its figures beside the objectives, as JSON and as Markdown. */
import type { ClassRpo, DrVerdict, TierRto } from '../../core/dr/metrics.ts';
import type { DrillScenario, DrObjectives } from '../../core/dr/objectives.ts';

export interface DrillWrite {
  readonly handoff_id: string;
  readonly kind: 'created' | 'accepted' | 'completed';
  /** The region that acknowledged it. */
  readonly region: string;
  readonly acknowledged_at: number;
}

export interface DrillReport {
  readonly scenario: DrillScenario;
  readonly region: string;
  /** The failover's target that failed too (cascading failure). */
  readonly second_region?: string;
  readonly started_at: string;
  readonly fault_at: string;
  readonly ended_at: string;
  readonly simulated_seconds: number;
  readonly time_to_detect_seconds: number | null;
  readonly failover_id?: string;
  readonly runbook?: {
    readonly kind: string;
    readonly dr_id: string;
    readonly status: string;
    readonly error?: string;
    /** What the runbook's update_dr_metrics computed (phases, its own RTO and RPO). */
    readonly metrics?: Record<string, unknown>;
  };
  readonly rto: readonly TierRto[];
  readonly rpo: readonly ClassRpo[];
  readonly writes: {
    readonly acknowledged: number;
    readonly lost: number;
    readonly unequal: number;
    /** Requests not acknowledged (refused or unanswered): not writes, so never lost. */
    readonly refused: number;
    readonly data_loss_window_seconds: number;
    readonly lost_ids: readonly string[];
  };
  readonly survivors: readonly string[];
  readonly residency: { readonly held: boolean; readonly violations: number };
  readonly verdict: DrVerdict;
  readonly objectives: DrObjectives;
  /** What ran the drill: `virtual clock`, or `local plane at speed <n>` (the CLI fills it). */
  readonly plane?: string;
  /** Wall-clock seconds of this scenario, the plane's start and stop included (the CLI fills it). */
  readonly wall_seconds?: number;
}

export interface DrillSuite {
  readonly reports: readonly DrillReport[];
  readonly met: boolean;
  /** Wall-clock ms of the whole run (the CLI fills it). */
  readonly wall_ms?: number;
  readonly speed?: number;
}

const mark = (met: boolean) => (met ? 'met' : '**MISSED**');
const value = (v: number | null, unit = 's') => (v === null ? 'never' : `${v} ${unit}`);

export function drillMarkdown(suite: DrillSuite): string {
  const lines: string[] = ['# DR drill report', ''];
  lines.push(
    `Result: ${suite.met ? 'every objective met' : '**objectives missed**'}` +
      (suite.wall_ms === undefined ? '' : `; wall time ${(suite.wall_ms / 1000).toFixed(1)} s`) +
      (suite.speed === undefined ? '' : ` at speed ${suite.speed}`),
    '',
  );
  for (const r of suite.reports) {
    lines.push(`## ${r.scenario} (${r.region}${r.second_region ? `, then ${r.second_region}` : ''})`, '');
    lines.push(
      `- fault at ${r.fault_at}; ${r.simulated_seconds} simulated s in all` +
        (r.plane === undefined ? '' : ` on the ${r.plane}`) +
        (r.wall_seconds === undefined ? '' : `, ${r.wall_seconds} s of wall time`),
    );
    lines.push(`- time to detect: ${value(r.time_to_detect_seconds)}`);
    if (r.failover_id) lines.push(`- failover: ${r.failover_id}`);
    if (r.runbook)
      lines.push(
        `- runbook ${r.runbook.kind} (${r.runbook.dr_id}): ${r.runbook.status}${r.runbook.error ? `: ${r.runbook.error}` : ''}`,
      );
    lines.push(
      `- acknowledged writes: ${r.writes.acknowledged}, lost ${r.writes.lost}, unequal ${r.writes.unequal} (refused requests: ${r.writes.refused}); data-loss window ${r.writes.data_loss_window_seconds} s`,
    );
    lines.push(
      `- survivors: ${r.survivors.join(', ')}; residency ${r.residency.held ? 'held' : `broken ${r.residency.violations} time(s)`}`,
    );
    lines.push('', '| objective | measured | target | |', '| --- | --- | --- | --- |');
    for (const t of r.rto)
      lines.push(
        `| RTO ${t.tier} | ${value(t.downtime_seconds)} | ${t.objective_seconds} s | ${mark(t.met)} |`,
      );
    for (const c of r.rpo)
      lines.push(
        `| RPO ${c.data_class} | ${value(c.loss_seconds)} | ${c.objective_seconds} s | ${mark(c.met)} |`,
      );
    const criteria = r.objectives.success_criteria;
    lines.push(
      `| rto_achievement | ${r.verdict.rto_achievement} | ${criteria.rto_achievement} | ${mark(r.verdict.rto_achievement >= criteria.rto_achievement)} |`,
    );
    lines.push(
      `| rpo_achievement | ${r.verdict.rpo_achievement} | ${criteria.rpo_achievement} | ${mark(r.verdict.rpo_achievement >= criteria.rpo_achievement)} |`,
    );
    lines.push(
      `| data_integrity | ${r.verdict.data_integrity} | ${criteria.data_integrity} | ${mark(r.verdict.data_integrity >= criteria.data_integrity)} |`,
    );
    lines.push('');
    if (r.verdict.misses.length > 0) {
      lines.push('Missed:', '');
      for (const miss of r.verdict.misses) lines.push(`- ${miss}`);
      lines.push('');
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
