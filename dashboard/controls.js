/**
 * Fault controls (local only: the gateway's /v1/sim fault API) and failover controls (the /v1/failovers
 * API of whichever region answers). Each answer, or refusal with its reasons, is said in words.
 */
import { send } from './api.js';
import { h } from './dom.js';

/** Fills the region, peer and target selects (once: a later call with the same regions changes nothing). */
export function fillRegions(root, regionIds) {
  const region = root.querySelector('#control-region');
  if (region.options.length > 0) return;
  const peer = root.querySelector('#control-peer');
  const target = root.querySelector('#control-target');
  for (const id of regionIds) {
    region.append(h('option', { value: id }, id));
    peer.append(h('option', { value: id }, id));
    target.append(h('option', { value: id }, id));
  }
  if (regionIds.length > 1) peer.value = regionIds[1];
}

export function createControls(root, plane, regionIds, onDone) {
  const say = root.querySelector('#control-result');
  const region = root.querySelector('#control-region');
  const peer = root.querySelector('#control-peer');
  const target = root.querySelector('#control-target');
  fillRegions(root, regionIds);
  const number = (id) => Number(root.querySelector(id).value);

  const run = async (label, action) => {
    say.textContent = `${label}…`;
    say.className = '';
    try {
      const text = await action();
      say.textContent = `${label}: ${text}`;
    } catch (error) {
      const details = error.body?.error?.details ?? [];
      const excluded = error.body?.error?.excluded ?? error.body?.excluded ?? [];
      say.textContent = [
        `${label} refused: ${error.message}`,
        ...details.map((d) => `${d.field}: ${d.reason}`),
        ...excluded.map((e) => `${e.region}: ${(e.reasons ?? []).join('; ')}`),
      ].join(' — ');
      say.className = 'refused';
    }
    onDone();
  };

  const fault = (body) => async () => {
    const answer = await plane.sim('/v1/sim/faults', send('POST', body));
    return `${answer.fault.kind} on ${answer.fault.region}; ${answer.faults.length} fault(s) active`;
  };
  const heal = (which) => async () => {
    const query = which ? `?region=${encodeURIComponent(which)}` : '';
    const answer = await plane.sim(`/v1/sim/faults${query}`, send('DELETE'));
    return `healed ${answer.healed.length} fault(s); ${answer.faults.length} left`;
  };
  const failover = (action) => async () => {
    const body = {
      failed_region: region.value,
      reason: root.querySelector('#control-reason').value.trim() || `${action} from the dashboard`,
      ...(action === 'failback' ? { action } : {}),
      ...(target.value ? { target_region: target.value } : {}),
    };
    const answer = await plane.api('/v1/failovers', send('POST', body));
    return `${answer.body.failover_id ?? 'started'} (asked ${answer.region ?? answer.endpoint.name})`;
  };

  const on = (id, label, action) =>
    root.querySelector(id).addEventListener('click', () => run(label(), action()));
  on(
    '#fault-down',
    () => `Take ${region.value} down`,
    () => fault({ region: region.value, kind: 'down' }),
  );
  on(
    '#fault-up',
    () => `Bring ${region.value} up`,
    () => heal(region.value),
  );
  on(
    '#fault-errors',
    () => `Errors on ${region.value}`,
    () => fault({ region: region.value, kind: 'errors', rate: number('#control-rate') }),
  );
  on(
    '#fault-slow',
    () => `Slow ${region.value}`,
    () => fault({ region: region.value, kind: 'slow', latency_ms: number('#control-latency') }),
  );
  on(
    '#fault-partition',
    () => `Partition ${region.value} from every other`,
    () => fault({ region: region.value, kind: 'partition' }),
  );
  on(
    '#fault-cut',
    () => `Cut the link ${region.value} – ${peer.value}`,
    () => fault({ region: region.value, kind: 'partition', peers: [peer.value] }),
  );
  on(
    '#fault-heal',
    () => 'Heal everything',
    () => heal(undefined),
  );
  on(
    '#failover-start',
    () => `Fail ${region.value} over`,
    () => failover('failover'),
  );
  on(
    '#failover-back',
    () => `Fail ${region.value} back`,
    () => failover('failback'),
  );

  /** Approve, decline or abort one failover from its timeline entry. */
  return (decision, record) =>
    run(`${decision[0].toUpperCase()}${decision.slice(1)} ${record.failover_id}`, async () => {
      const answer = await plane.api(
        `/v1/failovers/${encodeURIComponent(record.failover_id)}/${decision}`,
        send('POST', { by: 'dashboard' }),
      );
      return `${answer.body.status ?? 'done'} (asked ${answer.region ?? answer.endpoint.name})`;
    });
}
