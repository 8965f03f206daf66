/**
 * The operations dashboard: polls the control plane every POLL_MS without reloading, from whichever
 * endpoint answers (api.js), and redraws each panel whose data changed.
 */
import { Plane } from './api.js';
import { createControls, fillRegions } from './controls.js';
import { clock, h, replace } from './dom.js';
import { createMap, drawRegions } from './map.js';
import {
  compliancePanel,
  eventsTable,
  failoverTimeline,
  latencyMatrix,
  observersMatrix,
  regionsTable,
  replicationTable,
  resourcesTable,
} from './panels.js';

/** Short polling: fast enough to watch a failover step by step, light on a plane that is busy failing over. */
const POLL_MS = 1500;
/** Latency, resources, replication and audits change slowly: asked every SLOW_EVERY polls. */
const SLOW_EVERY = 2;
const EVENTS_KEPT = 40;

const $ = (selector) => document.querySelector(selector);

/** Draws into a panel only when its data changed (keeps focus and avoids needless work). */
const drawn = new Map();
function draw(id, data, render) {
  const key = JSON.stringify(data);
  if (drawn.get(id) === key) return;
  drawn.set(id, key);
  replace($(`#${id}`), render(data));
}

function unavailable(id, error) {
  drawn.delete(id);
  replace($(`#${id}`), h('p', { class: 'refused' }, `Not available: ${error.message}`));
}

async function boot() {
  let endpoints;
  try {
    const response = await fetch('/dashboard/endpoints.json', { cache: 'no-store' });
    endpoints = await response.json();
  } catch (error) {
    $('#notice').textContent = `Cannot read the plane's endpoints: ${error.message}`;
    return;
  }
  const plane = new Plane(endpoints, location.origin);
  const map = createMap();
  $('#map').append(map.root);
  // Through cortex dashboard the page acts only when it was started with --allow-actions.
  const readOnly = Boolean(endpoints.proxy) && !endpoints.proxy.actions;
  $('#controls').toggleAttribute('data-read-only', readOnly);
  // Through the proxy the regions are the topology's, known from the first answer (pollOnce).
  const regionIds = endpoints.proxy ? [] : Object.keys(endpoints.regions);
  const controls = createControls($('#controls'), plane, regionIds, () => poll(plane, map, act, false));
  const act = readOnly ? undefined : controls;
  // Where a matrix cell's reasons are read out when it has focus (hover shows its title).
  for (const id of ['observers', 'latency']) {
    const detail = $(`#${id}-detail`);
    const show = (event) => {
      const cell = event.target.closest?.('[data-detail]');
      if (cell) detail.textContent = cell.dataset.detail;
    };
    $(`#${id}`).addEventListener('focusin', show);
    $(`#${id}`).addEventListener('mouseover', show);
  }
  let cycle = 0;
  const loop = async () => {
    await poll(plane, map, act, cycle % SLOW_EVERY === 0);
    cycle += 1;
    setTimeout(loop, POLL_MS);
  };
  loop();
}

const state = {
  events: [],
  since: undefined,
  polls: 0,
  resources: [],
  faults: [],
  busy: false,
  /** The plane said it has no fault API or event log (`NOT_LOCAL`, cortex dashboard): not asked again. */
  notLocal: undefined,
};

/** Remembers a `NOT_LOCAL` answer, so the page stops asking for what the plane said it does not have. */
function local(error) {
  if (error?.body?.error?.code === 'NOT_LOCAL') state.notLocal = error;
  return { error };
}

async function poll(plane, map, act, slow) {
  // A control's redraw and the timer's may meet: one poll at a time.
  if (state.busy) return;
  state.busy = true;
  try {
    await pollOnce(plane, map, act, slow);
  } finally {
    state.busy = false;
  }
}

async function pollOnce(plane, map, act, slow) {
  // The gateway's own routes: layout, faults, events (local only; absent on AWS).
  const sim = state.notLocal ? Promise.resolve({ error: state.notLocal }) : plane.sim('/v1/sim').catch(local);
  const events = pollEvents(plane);

  let regions;
  try {
    // Asked first and alone: when the current endpoint is dead this is where the page moves on.
    regions = await plane.api('/v1/regions');
  } catch (error) {
    $('#source').textContent = `No endpoint answers: ${error.message}`;
    $('#source').dataset.region = '';
    showSwitch(plane);
    return;
  }
  const asked = [plane.api('/v1/failovers?limit=8')];
  if (slow) {
    asked.push(
      plane.api('/v1/resources'),
      plane.api('/v1/latency'),
      plane.api('/v1/replication'),
      plane.api('/v1/compliance/audits?limit=5'),
    );
  }
  const [failovers, resources, latency, replication, audits] = await Promise.allSettled(asked);

  const layout = await sim;
  state.faults = layout.error ? state.faults : layout.faults;
  if (resources?.status === 'fulfilled') state.resources = resources.value.body.regions;

  state.polls += 1;
  document.body.dataset.polls = String(state.polls);
  const answeredBy = regions.region ?? regions.endpoint.name;
  $('#source').dataset.region = answeredBy;
  $('#source').textContent =
    `Answered by ${answeredBy} (endpoint ${regions.endpoint.name}, ${regions.endpoint.url}${
      plane.proxy ? `, signed by cortex dashboard at ${location.origin}` : ''
    })`;
  $('#updated').textContent = `Updated ${new Date().toISOString().slice(11, 19)} UTC${
    layout.error
      ? ''
      : ` · simulated ${clock(layout.now)} at speed ×${layout.speed} · DNS answers ${layout.dns.region}`
  } · poll ${state.polls}`;
  showSwitch(plane);

  fillRegions(
    $('#controls'),
    regions.body.regions.map((r) => r.region_id),
  );
  drawRegions(map, regions.body.regions, state.resources, state.faults);
  draw('regions', [regions.body.regions, state.resources], ([r, p]) => regionsTable(r, p));
  draw('observers', regions.body.regions, observersMatrix);
  if (failovers.status === 'fulfilled')
    draw('failovers', failovers.value.body.failovers, (f) => failoverTimeline(f, act));
  else unavailable('failovers', failovers.reason);
  const slowPanel = (id, result, render) => {
    if (!result) return;
    if (result.status === 'fulfilled') draw(id, result.value.body, render);
    else unavailable(id, result.reason);
  };
  slowPanel('resources', resources, resourcesTable);
  slowPanel('latency', latency, latencyMatrix);
  slowPanel('replication', replication, replicationTable);
  slowPanel('compliance', audits, compliancePanel);

  draw('faults', layout.error ? null : layout.faults, (faults) =>
    faults === null
      ? h('p', { class: 'muted' }, 'No fault API here (the local gateway serves it).')
      : faults.length === 0
        ? h('p', {}, 'No fault injected.')
        : h(
            'ul',
            {},
            faults.map((f) =>
              h(
                'li',
                {},
                `${f.region}: ${f.kind}`,
                f.rate !== undefined ? ` (rate ${f.rate})` : '',
                f.latency_ms !== undefined ? ` (+${f.latency_ms} ms)` : '',
                f.peers ? ` from ${f.peers.join(', ')}` : '',
                ` since ${clock(f.since)}`,
              ),
            ),
          ),
  );
  $('#controls').toggleAttribute('data-unavailable', Boolean(layout.error));
  await events;
  draw('events', state.events, eventsTable);
}

/** Newest events from the gateway's log: the first poll starts near its end, then only what is new. */
async function pollEvents(plane) {
  if (state.notLocal) return;
  try {
    if (state.since === undefined) {
      const end = await plane.sim(`/v1/events?since=${Number.MAX_SAFE_INTEGER}`);
      state.since = Math.max(0, end.next - EVENTS_KEPT);
    }
    const page = await plane.sim(`/v1/events?since=${state.since}`);
    state.events = [...state.events, ...page.events].slice(-EVENTS_KEPT);
    state.since = page.next;
  } catch (error) {
    // No event log (not local, or the gateway is gone): the panel keeps what it had.
    local(error);
  }
}

function showSwitch(plane) {
  const notice = $('#notice');
  const s = plane.switched;
  const text = s
    ? `Switched from ${s.from} to ${s.to} at ${s.at.toISOString().slice(11, 19)} UTC: ${s.why}`
    : `Talking to ${plane.endpoint.name}; it will move to another endpoint by itself if this one stops answering.`;
  if (notice.textContent !== text) notice.textContent = text;
  notice.classList.toggle('switched', Boolean(s));
  replace(
    $('#endpoints'),
    plane.endpoints.map((e) =>
      h(
        'li',
        { 'data-endpoint': e.name },
        `${e.name}: `,
        e === plane.endpoint
          ? 'in use'
          : plane.failures.has(e.name)
            ? `not answering (${plane.failures.get(e.name)})`
            : 'standby',
      ),
    ),
  );
}

boot();
