/**
 * The page's panels, each drawn from one API answer. Every colour comes with words (status, verdict,
 * level), so nothing depends on telling colours apart.
 */
import { clock, duration, h, percent } from './dom.js';

const badge = (kind, text) => h('span', { class: `badge ${kind}` }, text);

/** Every region: status, role, tier, traffic weight (where new tasks go), epoch, capacity, health. */
export function regionsTable(regions, resources) {
  return h(
    'table',
    {},
    h(
      'caption',
      {},
      'Every region, as the answering region’s replica holds it; available: the minutes its probe rounds saw the region serving and reached by a majority, against the SLA',
    ),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [
          'Region',
          'Status',
          'Role',
          'Tier',
          'Traffic weight',
          'Epoch',
          'Capacity free',
          'Health',
          'Available, last hour',
          'Available, last day',
        ].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      regions.map((r) => {
        const pool = resources.find((p) => p.region === r.region_id);
        return h(
          'tr',
          { 'data-region': r.region_id, 'data-status': r.status },
          h('th', { scope: 'row' }, r.region_id, h('div', { class: 'muted' }, r.display_name ?? '')),
          h(
            'td',
            {},
            badge(`status-${r.status}`, r.status),
            r.serving ? '' : h('div', { class: 'muted' }, 'not serving'),
          ),
          h('td', {}, r.role),
          h('td', {}, r.tier),
          h(
            'td',
            {},
            h('meter', { min: 0, max: 100, value: r.traffic_weight, 'aria-hidden': 'true' }),
            ` ${r.traffic_weight} %`,
          ),
          h('td', {}, String(r.epoch)),
          h(
            'td',
            {},
            percent(r.capacity?.available ?? 0),
            pool ? h('div', { class: 'muted' }, `pool ${pool.level}`) : '',
          ),
          h(
            'td',
            {},
            r.health?.state ?? '',
            // The first reason in the table, all of them on hover.
            r.health?.reasons?.length
              ? h(
                  'div',
                  { class: 'muted', title: r.health.reasons.join('\n') },
                  r.health.reasons[0],
                  r.health.reasons.length > 1 ? ` (+${r.health.reasons.length - 1} more)` : '',
                )
              : '',
          ),
          availabilityCell(r.availability?.last_hour, 'hour'),
          availabilityCell(r.availability?.last_day, 'day'),
        );
      }),
    ),
  );
}

/**
 * A region's availability over a window, as the answering region's probe rounds sampled it each
 * minute: the percent, how many minutes were measured, and its standing against the SLA in words.
 */
function availabilityCell(w, window) {
  if (!w) return h('td', { 'data-availability': window }, h('span', { class: 'muted' }, 'not recorded'));
  const measured = `${w.minutes_measured} of ${w.window_minutes} min measured`;
  if (w.percent === null) {
    return h(
      'td',
      { 'data-availability': window },
      badge('rep-unknown', 'not measured'),
      h('div', { class: 'muted' }, `target ${w.sla} %`),
    );
  }
  return h(
    'td',
    { 'data-availability': window, title: `${w.minutes_up} of ${w.minutes_measured} measured minutes up` },
    `${w.percent} % `,
    w.meets_sla ? badge('sla-ok', `meets ${w.sla} %`) : badge('sla-bad', `below ${w.sla} %`),
    h('div', { class: 'muted' }, measured),
  );
}

/** Every observer's verdict on every region; the reasons on hover (title) and on focus (the detail line). */
export function observersMatrix(regions) {
  const observers = [];
  for (const r of regions) {
    for (const id of [r.region_id, ...Object.keys(r.observers ?? {})])
      if (!observers.includes(id)) observers.push(id);
  }
  return h(
    'table',
    { class: 'matrix' },
    h('caption', {}, 'Rows: the region observed. Columns: the observer. Focus a cell for the reasons.'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('td', {}),
        observers.map((o) => h('th', { scope: 'col' }, o)),
      ),
    ),
    h(
      'tbody',
      {},
      regions.map((r) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, r.region_id),
          observers.map((o) => {
            if (o === r.region_id) return h('td', { class: 'self' }, 'self');
            const view = r.observers?.[o];
            const verdict = view ? view.verdict : 'no view';
            const unreachable = view && view.reachable === false;
            const reasons = view
              ? [
                  `${o} sees ${r.region_id}: ${verdict}${unreachable ? ', unreachable' : ''}`,
                  `${view.consecutive_failures} failure(s), ${view.consecutive_successes} success(es) in a row; error rate ${percent(view.error_rate)}; p99 ${Math.round(view.p99_ms)} ms`,
                  ...(view.reasons ?? []),
                ].join('\n')
              : `${o} has no view of ${r.region_id} yet`;
            return h(
              'td',
              {
                class: `cell verdict-${verdict.replace(/\W+/g, '-')}`,
                tabindex: 0,
                title: reasons,
                'data-key': `obs:${o}:${r.region_id}`,
                'data-detail': reasons,
              },
              verdict.replace('_', ' '),
              unreachable ? h('span', { class: 'small' }, ' unreachable') : '',
            );
          }),
        ),
      ),
    ),
  );
}

/** How a pair stands against its SLA, in words. */
function slaStanding(pair) {
  const verdict = pair.sla?.verdict;
  if (verdict) {
    if (verdict.ok) return { kind: 'ok', text: 'within SLA' };
    return { kind: 'bad', text: `over ${verdict.breaches.map((b) => b.percentile).join(', ')}` };
  }
  const sla = pair.sla ?? {};
  if (pair.ms <= (sla.p50_target_ms ?? Infinity)) return { kind: 'ok', text: 'within p50' };
  if (pair.ms <= (sla.p99_target_ms ?? Infinity)) return { kind: 'warn', text: 'over p50' };
  return { kind: 'bad', text: 'over p99' };
}

/** The latency matrix as a heat map against the SLA: ms and the standing in each cell. */
export function latencyMatrix(latency) {
  const ids = latency.regions;
  const pairOf = (from, to) => latency.pairs.find((p) => p.from === from && p.to === to);
  return h(
    'table',
    { class: 'matrix' },
    h('caption', {}, `Rows: from. Columns: to. Milliseconds routing uses, as ${latency.region} sees them.`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('td', {}),
        ids.map((id) => h('th', { scope: 'col' }, id)),
      ),
    ),
    h(
      'tbody',
      {},
      ids.map((from) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, from),
          ids.map((to) => {
            const pair = pairOf(from, to);
            if (!pair) return h('td', {}, '—');
            const standing = slaStanding(pair);
            const m = pair.measured;
            const detail = [
              `${from} → ${to}: ${pair.ms} ms (${pair.source}${pair.stale ? ', stale' : ''}); static ${pair.static_ms} ms`,
              m
                ? `measured p50 ${m.p50_ms} / p95 ${m.p95_ms} / p99 ${m.p99_ms} ms over ${m.sample_count} sample(s)`
                : 'not measured yet',
              `SLA p50 ${pair.sla?.p50_target_ms} / p95 ${pair.sla?.p95_target_ms} / p99 ${pair.sla?.p99_target_ms} ms: ${standing.text}`,
            ].join('\n');
            return h(
              'td',
              {
                class: `cell sla-${standing.kind}`,
                tabindex: 0,
                title: detail,
                'data-key': `lat:${from}:${to}`,
                'data-detail': detail,
              },
              `${Math.round(pair.ms)} ms`,
              h('span', { class: 'small' }, standing.text),
            );
          }),
        ),
      ),
    ),
  );
}

/** The resource pool per region: used against allocated, overall utilisation and its level. */
export function resourcesTable(resources) {
  const pair = (used, of) => `${used.toLocaleString('en')} / ${of.toLocaleString('en')}`;
  return h(
    'table',
    {},
    h('caption', {}, `Resource pool, hour ${resources.hour ?? ''}`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Region', 'Workers', 'Tokens this hour', 'Compute units', 'Utilisation'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      resources.regions.map((p) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, p.region),
          h('td', {}, pair(p.usage.workers, p.allocation.workers)),
          h('td', {}, pair(p.usage.tokens_used, p.allocation.tokens_per_hour)),
          h('td', {}, pair(p.usage.compute_units, p.allocation.compute_units)),
          h(
            'td',
            {},
            h('meter', {
              min: 0,
              max: 1,
              low: 0.7,
              high: 0.9,
              optimum: 0.3,
              value: p.utilization.overall,
              'aria-hidden': 'true',
            }),
            ` ${percent(p.utilization.overall)} `,
            badge(`level-${p.level}`, p.level),
          ),
        ),
      ),
    ),
  );
}

/** Replication lag of every ordered pair against the synchronous and asynchronous targets. */
export function replicationTable(replication) {
  const t = replication.thresholds ?? {};
  return h(
    'table',
    {},
    h(
      'caption',
      {},
      `Measured by ${replication.observer}. Targets: synchronous ${t.synchronous_seconds} s, asynchronous ${t.asynchronous_seconds} s; alert at ${t.alert_seconds} s or ${t.alert_records} records.`,
    ),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Source → replica', 'Lag', 'Records behind', 'Status', 'Why'].map((x) =>
          h('th', { scope: 'col' }, x),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      replication.pairs.map((p) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, `${p.source} → ${p.replica}`),
          h(
            'td',
            {},
            p.lag_seconds === undefined || p.lag_seconds === null
              ? '—'
              : `${p.lag_lower_bound ? '≥ ' : ''}${p.lag_seconds} s`,
          ),
          h('td', {}, String(p.lag_records ?? '—')),
          h('td', {}, badge(`rep-${p.status}`, p.status.replaceAll('_', ' '))),
          h('td', { class: 'muted' }, (p.reasons ?? []).join('; ')),
        ),
      ),
    ),
    replication.unreachable?.length
      ? h(
          'tfoot',
          {},
          h(
            'tr',
            {},
            h(
              'td',
              { colspan: 5 },
              `Not measured (unreachable): ${replication.unreachable.map((u) => `${u.region} (${u.error})`).join('; ')}`,
            ),
          ),
        )
      : '',
  );
}

/** The latest compliance audit and the success rate against its target. */
export function compliancePanel(audits) {
  const latest = audits.audits[0];
  const rate = audits.audit_success_rate;
  return h(
    'div',
    {},
    h(
      'p',
      {},
      'Audit success rate: ',
      h('strong', {}, rate ? `${rate.value} %` : '—'),
      rate ? ` (target ${rate.target} %) ` : '',
      rate ? badge(rate.met ? 'ok' : 'bad', rate.met ? 'met' : 'not met') : '',
    ),
    latest
      ? h(
          'dl',
          { class: 'facts' },
          h('dt', {}, 'Latest audit'),
          h('dd', {}, `${latest.audit_id} at ${latest.audit_date} (${latest.trigger})`),
          h('dt', {}, 'Status'),
          h(
            'dd',
            {},
            badge(latest.status === 'compliant' ? 'ok' : 'bad', latest.status),
            ` score ${latest.compliance_score}`,
          ),
          h('dt', {}, 'Violations'),
          h(
            'dd',
            {},
            `${latest.total_violations} (${Object.entries(latest.violations_by_type ?? {})
              .map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`)
              .join(', ')})`,
          ),
          h('dt', {}, 'Regions'),
          h('dd', {}, (latest.scope?.regions ?? []).join(', ')),
        )
      : h('p', { class: 'muted' }, 'No audit yet.'),
  );
}

const FINISHED = new Set(['completed', 'rolled_back', 'cancelled', 'failed']);

/**
 * Failovers and failbacks, newest first, each as a timeline of its steps with their durations; the
 * reason it rolled back or was cancelled; approve / decline / abort where the record allows it and
 * the page may act (`act` is absent on a read-only page).
 */
export function failoverTimeline(failovers, act) {
  if (failovers.length === 0) return h('p', { class: 'muted' }, 'No failover yet.');
  return h(
    'div',
    {},
    failovers.map((f) => {
      const steps = f.steps ?? [];
      const start = Date.parse(steps[0]?.started_at ?? f.initiated_at);
      const end = Math.max(start + 1, ...steps.map((s) => Date.parse(s.ended_at)));
      const span = end - start;
      const buttons = [];
      if (act && f.status === 'awaiting_approval') {
        buttons.push(
          h('button', { type: 'button', onclick: () => act('approve', f) }, `Approve ${f.failover_id}`),
        );
        buttons.push(
          h('button', { type: 'button', onclick: () => act('decline', f) }, `Decline ${f.failover_id}`),
        );
      }
      if (act && (f.status === 'running' || f.status === 'awaiting_approval')) {
        buttons.push(
          h('button', { type: 'button', class: 'quiet', onclick: () => act('abort', f) }, 'Abort'),
        );
      }
      const why =
        FINISHED.has(f.status) && f.status !== 'completed'
          ? (f.error?.message ?? rollbackDetail(steps))
          : undefined;
      return h(
        'article',
        { class: 'failover', 'data-failover': f.failover_id, 'data-status': f.status },
        h(
          'h3',
          {},
          `${f.kind === 'failback' ? 'Failback' : 'Failover'} of ${f.failed_region}`,
          f.target_region ? ` → ${f.target_region}` : '',
          ' ',
          badge(`fo-${f.status}`, f.status.replaceAll('_', ' ')),
        ),
        h(
          'p',
          { class: 'muted' },
          `${f.failover_id} · ${f.trigger} · coordinator ${f.coordinator} · started ${clock(f.initiated_at)}`,
          f.completed_at
            ? ` · ended ${clock(f.completed_at)} (${duration(Date.parse(f.completed_at) - Date.parse(f.initiated_at))})`
            : '',
          f.downtime_seconds !== undefined ? ` · downtime ${f.downtime_seconds} s` : '',
        ),
        h('p', {}, f.reason),
        why
          ? h(
              'p',
              { class: 'why' },
              h('strong', {}, f.status === 'rolled_back' ? 'Rolled back: ' : 'Why it ended: '),
              why,
            )
          : '',
        f.operator_wait
          ? h('p', { class: 'why' }, h('strong', {}, 'Waiting for an operator: '), f.operator_wait.reason)
          : '',
        buttons.length ? h('p', { class: 'actions' }, buttons) : '',
        h(
          'ol',
          { class: 'steps' },
          steps.map((s) => {
            const took = Date.parse(s.ended_at) - Date.parse(s.started_at);
            const bar = h('span', { class: `bar outcome-${s.outcome}`, 'aria-hidden': 'true' });
            // Offset and length on the failover's own time axis (CSSOM: the page's CSP allows no inline style).
            bar.style.marginLeft = `${(((Date.parse(s.started_at) - start) / span) * 100).toFixed(1)}%`;
            bar.style.width = `${Math.max(0.5, (took / span) * 100).toFixed(1)}%`;
            return h(
              'li',
              { class: `step outcome-${s.outcome}` },
              h('span', { class: 'step-name' }, `${s.action.replaceAll('_', ' ')}`),
              h(
                'span',
                { class: 'step-meta' },
                `${s.phase} · ${s.outcome}${s.attempt > 1 ? ` · attempt ${s.attempt}` : ''} · ${duration(took)} · ${clock(s.started_at)}`,
              ),
              h('span', { class: 'track' }, bar),
              h('span', { class: 'step-detail' }, s.detail),
            );
          }),
        ),
      );
    }),
  );
}

function rollbackDetail(steps) {
  return steps.find((s) => s.action === 'rollback')?.detail;
}

/** The newest events first: time, type, region and a one-line summary. */
export function eventsTable(events) {
  return h(
    'table',
    {},
    h('caption', {}, 'What EventBridge receives on AWS, newest first'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Time', 'Type', 'Region', 'Detail'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      [...events]
        .reverse()
        .map((e) =>
          h(
            'tr',
            {},
            h('td', {}, clock(e.time)),
            h('td', {}, e.type),
            h('td', {}, e.source_region),
            h('td', { class: 'muted' }, summary(e.detail)),
          ),
        ),
    ),
  );
}

function summary(detail) {
  const text = JSON.stringify(detail ?? {});
  return text.length > 180 ? `${text.slice(0, 177)}…` : text;
}
