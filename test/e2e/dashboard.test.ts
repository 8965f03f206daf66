/**
 * The operations dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against the local control plane: the page, its live polling, its fault controls, and its move to
 * another region's endpoint when the one it talks to dies. The fast policy (10 s x 3) at SPEED; every
 * wait is for a condition on the page.
 *
 * One plane serves the tests of a healthy plane and then the death of us-east-1, which every page
 * open on it watches at once (the gateway's, us-east-1's own, cortex dashboard's): each page's checks
 * are its own, and the pages wait out the probe intervals together rather than one after another.
 * The fault-injection test, whose faults would change what the others see, has a plane of its own.
 *
 * A screenshot of the page after the failover is kept in test-artifacts/ (gitignored).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DashboardProxy, nameUpstreams, startDashboardProxy } from '../../lib/cli/dashboard.ts';
import type { LocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson, inQuietHour } from '../fixtures/topologies.ts';
import { call, post, untilAllHealthy, usePlane, useSharedPlane, withFastPolicy } from '../support/plane.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/**
 * Simulated ms per real ms. A probe's 10 s timeout and the policy's 5 s p99 threshold are 2 s and
 * 1 s of real time here: a plane starved of CPU for less than that by a busy machine (the page, the
 * browser and the other tests) still sees every region as it is. At 10, half a second of starvation
 * fenced or failed regions that were up.
 */
const SPEED = 5;
/** Real ms per simulated probe interval (10 s). */
const REAL_INTERVAL_MS = 10_000 / SPEED;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;
/** The budget for the page and everything it loads, compressed as sent. */
const PAGE_BUDGET_BYTES = 150 * 1024;
/** A plane to start and settle, a failover to run, on 2 shared cores. */
const TEST_TIMEOUT_MS = 150 * REAL_INTERVAL_MS;
/**
 * How long a check of the page is retried: twenty probe intervals. Vitest's default (one second)
 * is a real-time bound a busy machine breaks: the page polls every second or so, and one poll late
 * leaves the cell as it was.
 */
const PAGE_WAIT = { timeout: 20 * REAL_INTERVAL_MS, interval: 100 };

const plane = usePlane('cortex-dashboard-', SPEED);
let browser: Browser;
/** The pages a test opened, closed after it. */
const pages: Page[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install -y --no-install-recommends chromium (.ci/run does)`,
    );
  }
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(ARTIFACTS, { recursive: true });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()));
});

afterAll(async () => {
  await browser?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the raw topology JSON, as defaultTopologyJson answers it.
function dashboardTopology(): any {
  return inQuietHour(withFastPolicy(defaultTopologyJson()));
}

/** A plane of the test's own, every region seen healthy by every observer. */
async function start(): Promise<LocalControlPlane> {
  const cp = await plane.start(dashboardTopology());
  await untilAllHealthy(cp, 40 * REAL_INTERVAL_MS);
  return cp;
}

/** A new page, closed with the pages of `owner` (by default after the test). */
async function newPage(owner: Page[] = pages): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  owner.push(p);
  return p;
}

/** Opens the dashboard at `url` (`watch` sees the page before it loads); the page's errors fail the test. */
async function open(url: string, owner: Page[] = pages, watch: (p: Page) => void = () => {}): Promise<Page> {
  const p = await newPage(owner);
  watch(p);
  const errors: string[] = [];
  p.on('pageerror', (error) => errors.push(error.message));
  await p.goto(url);
  await untilPolls(p, 1);
  expect(errors).toEqual([]);
  return p;
}

/** The page's own count of finished polls (the project's TypeScript has no DOM library: typed here). */
function pollsInPage(): number {
  const page = globalThis as unknown as { document: { body: { dataset: { polls?: string } } } };
  return Number(page.document.body.dataset.polls ?? 0);
}

function activeIdInPage(): string {
  const page = globalThis as unknown as { document: { activeElement: { id: string } | null } };
  return page.document.activeElement?.id ?? '';
}

function polls(p: Page): Promise<number> {
  // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
  return p.evaluate(pollsInPage);
}

/**
 * Waits until the page has finished `n` polls more than it had at `from` (by default now): the page
 * is updating, not frozen.
 */
async function untilPolls(p: Page, n: number, from?: number): Promise<void> {
  const start = from ?? (await polls(p));
  // vi.waitFor rather than expect.poll: pages are opened in hooks too, where expect.poll is refused.
  await vi.waitFor(async () => expect(await polls(p)).toBeGreaterThanOrEqual(start + n), {
    timeout: 20 * REAL_INTERVAL_MS,
    interval: 100,
  });
}

/** A region's availability cell in the status table (`hour` or `day`), as its text reads. */
async function availabilityText(p: Page, region: string, window: string): Promise<string> {
  const cell = p.locator(`#regions tr[data-region="${region}"] td[data-availability="${window}"]`);
  return ((await cell.textContent()) ?? '').trim();
}

function marker(p: Page, region: string) {
  return p.locator(`.map [data-region="${region}"]`);
}

describe('the operations dashboard in Chromium', () => {
  describe('on a plane whose us-east-1 dies in the last test (its failover waits for an operator)', () => {
    // The approval step holds the failover on the timeline until the page's Approve button answers it.
    const raw = dashboardTopology();
    raw.failover_policies.automatic_failover.require_manual_approval = true;
    // At SPEED the policy's 60 s decision timeout is 12 real seconds from the approval being asked to
    // the click, which the page's polls and a busy machine can spend: the failover would end cancelled
    // before the button is pressed. The timeout is tested in test/statemachine.
    raw.failover_policies.automatic_failover.decision_timeout_seconds = 3600;
    // The runtime's default replication lag, as a plane of the test's own has.
    const shared = useSharedPlane('cortex-dashboard-', raw, { speed: SPEED, replicationLagMs: undefined });
    /** Pages open from before the fault to the end of the block. */
    const watching: Page[] = [];
    let proxy: DashboardProxy | undefined;
    /** The gateway's page: its controls take us-east-1 down. */
    let atGateway: Page;
    /** The gateway page's own files as sent (not its API calls): what a first visit costs. */
    const sent: { url: string; bytes: number }[] = [];
    /** us-east-1's own endpoint serves this page: it must move when its region dies. */
    let fromRegion: Page;
    /** The page through cortex dashboard (read-only), whose proxy must move when us-east-1 dies. */
    let throughProxy: Page;
    /** What the page through the proxy asked of the local-only routes after it was told there are none. */
    const localAsks: string[] = [];
    /** Its polls when it had been told. */
    let toldAtPoll = 0;

    beforeAll(async () => {
      const cp = shared.plane();
      await untilAllHealthy(cp, 40 * REAL_INTERVAL_MS);
      proxy = await startDashboardProxy({
        upstreams: await nameUpstreams(REGIONS.map((r) => cp.regions[r]?.url ?? '')),
        port: 0,
      });
      const sizes = (p: Page) =>
        p.on('requestfinished', async (request) => {
          if (!new URL(request.url()).pathname.startsWith('/v1/')) {
            const { responseBodySize, responseHeadersSize } = await request.sizes();
            sent.push({ url: request.url(), bytes: responseBodySize + responseHeadersSize });
          }
        });
      [atGateway, fromRegion, throughProxy] = await Promise.all([
        open(cp.gatewayUrl, watching, sizes),
        open(`${cp.regions['us-east-1']?.url}/`, watching),
        open(`${proxy.url}/`, watching),
      ]);
      throughProxy.on('request', (r) => {
        if (/^\/v1\/(sim|events)/.test(new URL(r.url()).pathname)) localAsks.push(r.url());
      });
      toldAtPoll = await polls(throughProxy);
    }, TEST_TIMEOUT_MS);

    afterAll(async () => {
      await Promise.all(watching.splice(0).map((p) => p.close()));
      await proxy?.stop();
    });

    it(
      'shows every region of the default topology, with words next to every colour, in under 150 KB',
      async () => {
        const cp = shared.plane();
        const page = atGateway;
        // Two polls since it loaded.
        await untilPolls(page, 2, 0);

        for (const region of REGIONS) {
          await expect
            .poll(() => marker(page, region).getAttribute('data-status'), PAGE_WAIT)
            .toBe('healthy');
          expect(await marker(page, region).textContent()).toContain(`${region} · healthy`);
          expect(await page.locator(`#regions tr[data-region="${region}"]`).textContent()).toContain(
            'healthy',
          );
          // Its availability over the last hour and day, in words against the SLA.
          for (const window of ['hour', 'day']) {
            await expect
              .poll(() => availabilityText(page, region, window), PAGE_WAIT)
              .toMatch(/^100 % meets 99\.99 %\d+ of (60|1440) min measured$/);
          }
        }
        // Observers' and latency cells are keyboard reachable, each with its reasons.
        const cells = page.locator('#observers td[tabindex="0"]');
        expect(await cells.count()).toBeGreaterThanOrEqual(REGIONS.length * (REGIONS.length - 1));
        await cells.first().focus();
        expect(await page.locator('#observers-detail').textContent()).toMatch(/sees .+: /);
        await page.waitForSelector('#latency td[tabindex="0"]');
        // The controls are reached with the keyboard, in reading order.
        await page.focus('#control-region');
        await page.keyboard.press('Tab');
        expect(await page.evaluate(activeIdInPage)).toBe('fault-down');
        for (const panel of ['#resources table', '#replication table', '#compliance p', '#events table']) {
          await page.waitForSelector(panel);
        }

        const total = sent.reduce((sum, s) => sum + s.bytes, 0);
        expect(sent.map((s) => new URL(s.url).pathname)).toEqual(
          expect.arrayContaining(['/', '/dashboard/app.js', '/dashboard/style.css']),
        );
        expect(total).toBeLessThan(PAGE_BUDGET_BYTES);

        // Every region's own endpoint serves the page too.
        for (const region of REGIONS) {
          const answer = await fetch(`${cp.regions[region]?.url}/`);
          expect(answer.status).toBe(200);
          expect(await answer.text()).toContain('Cortex operations');
        }
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'through cortex dashboard (the way it runs on AWS) against the local plane: read-only, every region shown',
      async () => {
        const p = throughProxy;
        for (const region of REGIONS) {
          await expect.poll(() => marker(p, region).getAttribute('data-status'), PAGE_WAIT).toBe('healthy');
        }
        expect(await p.getAttribute('#source', 'data-region')).toBe('us-east-1');
        expect(await p.textContent('#source')).toContain(`signed by cortex dashboard at ${proxy?.url}`);
        // No fault API answers through it and it was not allowed to act: no control is shown.
        expect(await p.isVisible('#fault-down')).toBe(false);
        expect(await p.isVisible('#failover-start')).toBe(false);
        expect(await p.isVisible('#controls .only-read-only')).toBe(true);
        // Told once that there is no fault API or event log here, the page stops asking for them.
        await untilPolls(p, 2, toldAtPoll);
        expect(localAsks).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'takes us-east-1 down from its control: the failover shows in the timeline, is approved from it, the region turns failed, and every page (the gateway’s, us-east-1’s own, cortex dashboard’s) goes on updating from a survivor',
      async () => {
        const cp = shared.plane();
        expect(await fromRegion.getAttribute('#source', 'data-region')).toBe('us-east-1');
        expect(await throughProxy.getAttribute('#source', 'data-region')).toBe('us-east-1');
        const p = atGateway;
        await p.selectOption('#control-region', 'us-east-1');
        await p.click('#fault-down');
        await expect.poll(() => p.textContent('#control-result'), PAGE_WAIT).toContain('down on us-east-1');
        expect((await call(`${cp.gatewayUrl}/v1/sim/faults`)).body.faults).toMatchObject([
          { region: 'us-east-1', kind: 'down' },
        ]);
        await Promise.all([
          approvedFromTheTimeline(p),
          movesOnFromItsRegion(fromRegion),
          proxyMovesOn(throughProxy),
        ]);
      },
      TEST_TIMEOUT_MS,
    );

    /** The gateway's page: the failover on its timeline, approved there, the region failed. */
    async function approvedFromTheTimeline(p: Page): Promise<void> {
      // Its epoch is 0 on a quiet machine; a plane starved of CPU may have fenced and unfenced a
      // region before (each a new epoch), which the simulator's tests cover: any epoch's will do.
      const failover = p.locator('#failovers article[data-failover^="failover-us-east-1-e"]').first();
      await failover.waitFor({ timeout: 40 * REAL_INTERVAL_MS });
      const id = (await failover.getAttribute('data-failover')) as string;
      const approve = failover.getByRole('button', { name: `Approve ${id}` });
      await approve.waitFor({ timeout: 40 * REAL_INTERVAL_MS });
      expect(await failover.getAttribute('data-status')).toBe('awaiting_approval');
      await approve.click();
      // The approval's answer first: a refused one fails here, naming it, not at the wait for completion.
      await expect.poll(() => p.textContent('#control-result'), PAGE_WAIT).toContain(`Approve ${id}: `);
      const approved = p.locator(`#failovers article[data-failover="${id}"]`);
      await expect
        .poll(() => approved.getAttribute('data-status'), { timeout: 40 * REAL_INTERVAL_MS, interval: 100 })
        .toBe('completed');
      expect(await p.textContent('#control-result')).toContain(`Approve ${id}: `);
      // Every step with its duration, in order.
      const steps = await failover.locator('li.step').allTextContents();
      expect(steps[0]).toMatch(/^verify failure.*succeeded · [\d.]+ (ms|s)/);
      expect(steps.join('\n')).toContain('update dns routing');

      await expect.poll(() => marker(p, 'us-east-1').getAttribute('data-status'), PAGE_WAIT).toBe('failed');
      expect(await marker(p, 'us-east-1').textContent()).toContain('us-east-1 · failed');
      // The page talks to a surviving region...
      const answering = await p.getAttribute('#source', 'data-region');
      expect(['eu-west-1', 'ap-south-1']).toContain(answering);
      const answeringSince = await polls(p);
      // Its last hour's availability drops below 100 % once a minute sampled it unreachable or
      // failed (a simulated minute is 12 s here).
      await expect
        .poll(() => availabilityText(p, 'us-east-1', 'hour'), { timeout: 20 * REAL_INTERVAL_MS })
        .toMatch(/below 99\.99 %/);
      const hour = Number((await availabilityText(p, 'us-east-1', 'hour')).split(' %')[0]);
      expect(hour).toBeLessThan(100);
      expect(await availabilityText(p, 'eu-west-1', 'hour')).toMatch(/^100 % meets/);
      // ...and goes on updating from it.
      await untilPolls(p, 2, answeringSince);
      expect(await p.textContent('#notice')).toMatch(/Switched from gateway to (eu-west-1|ap-south-1)/);
      await p.screenshot({ path: `${ARTIFACTS}dashboard-failover.png`, fullPage: true });
    }

    /** us-east-1's own page: it moves to another region, says why, and hears the observers' verdicts. */
    async function movesOnFromItsRegion(p: Page): Promise<void> {
      await p.waitForSelector('#source:is([data-region="eu-west-1"], [data-region="ap-south-1"])', {
        timeout: 10 * REAL_INTERVAL_MS,
      });
      await untilPolls(p, 2);
      expect(await p.textContent('#notice')).toMatch(
        /Switched from us-east-1 to \S+ .*us-east-1: connection failed/,
      );
      expect(await p.textContent('#endpoints [data-endpoint="us-east-1"]')).toContain('not answering');
      // Its observers' verdicts on the dead region arrive from the survivor.
      await expect
        .poll(() => p.locator('#observers td.verdict-unhealthy, #observers td.verdict-suspect').count(), {
          timeout: 20 * REAL_INTERVAL_MS,
        })
        .toBeGreaterThan(0);
    }

    /** The page through cortex dashboard: it says when the proxy moves to another region. */
    async function proxyMovesOn(p: Page): Promise<void> {
      await p.waitForSelector('#source:is([data-region="eu-west-1"], [data-region="ap-south-1"])', {
        timeout: 10 * REAL_INTERVAL_MS,
      });
      await untilPolls(p, 2);
      expect(await p.textContent('#notice')).toMatch(
        /Switched from us-east-1 to \S+ .*us-east-1: connection/,
      );
      expect(await p.textContent('#endpoints [data-endpoint="us-east-1"]')).toContain('not answering');
    }
  });

  it(
    'the data endpoints it uses answer under fault injection, and the page fills every panel from one that answers',
    async () => {
      const cp = await start();
      const origin = cp.gatewayUrl;
      for (const fault of [
        { region: 'us-east-1', kind: 'errors', rate: 1 },
        { region: 'ap-south-1', kind: 'slow', latency_ms: 2_000 },
        { region: 'eu-west-1', kind: 'partition', peers: ['ap-south-1'] },
      ]) {
        expect((await post(`${cp.gatewayUrl}/v1/sim/faults`, fault)).status).toBe(201);
      }
      const paths = [
        '/v1/regions',
        '/v1/failovers?limit=8',
        '/v1/resources',
        '/v1/latency',
        '/v1/replication',
        '/v1/compliance/audits?limit=5',
      ];
      // Asked all at once: ap-south-1 takes its injected latency to answer each.
      await Promise.all(
        (['eu-west-1', 'ap-south-1'] as const).flatMap((region) =>
          paths.map(async (path) => {
            const answer = await fetch(`${cp.regions[region]?.url}${path}`, { headers: { origin } });
            expect(answer.status, `${region} ${path}`).toBe(200);
            // Readable by a page from another loopback origin (the page moves between endpoints).
            expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
          }),
        ),
      );
      // The gateway's own routes answer whatever the regions' faults.
      expect((await call(`${cp.gatewayUrl}/v1/sim`)).status).toBe(200);
      expect((await call(`${cp.gatewayUrl}/v1/events?since=0`)).status).toBe(200);
      // A page from anywhere else is not let in.
      const foreign = await fetch(`${cp.regions['eu-west-1']?.url}/v1/regions`, {
        headers: { origin: 'https://example.com' },
      });
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

      // The gateway serves us-east-1, which answers errors: the page moves on and fills every panel.
      const p = await open(cp.gatewayUrl);
      expect(['eu-west-1', 'ap-south-1']).toContain(await p.getAttribute('#source', 'data-region'));
      await untilPolls(p, 2);
      for (const panel of [
        '#regions table',
        '#failovers',
        '#resources table',
        '#latency table',
        '#replication table',
      ]) {
        await p.waitForSelector(panel);
      }
      expect(await p.locator('main .refused').count()).toBe(0);
      expect(await p.textContent('#faults')).toContain('us-east-1: errors');
    },
    TEST_TIMEOUT_MS,
  );
});
