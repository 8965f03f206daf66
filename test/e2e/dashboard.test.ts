/**
 * The operations dashboard in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a local control plane started per test: the page, its live polling, its fault controls,
 * and its move to another region's endpoint when the one it talks to dies. The fast policy (10 s x 3)
 * at SPEED; every wait is for a condition on the page.
 *
 * A screenshot of the page after the failover is kept in test-artifacts/ (gitignored).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { nameUpstreams, startDashboardProxy } from '../../lib/cli/dashboard.ts';
import type { LocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson, inQuietHour } from '../fixtures/topologies.ts';
import { call, post, untilAllHealthy, usePlane, withFastPolicy } from '../support/plane.ts';

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
let page: Page | undefined;

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
  await page?.close();
  page = undefined;
});

afterAll(async () => {
  await browser?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: the raw topology JSON, edited freely by a test.
async function start(edit: (raw: any) => void = () => {}): Promise<LocalControlPlane> {
  const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
  edit(raw);
  const cp = await plane.start(raw);
  await untilAllHealthy(cp, 40 * REAL_INTERVAL_MS);
  return cp;
}

/** Opens the dashboard at `url`; the page's errors fail the test. */
async function open(url: string): Promise<Page> {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  await untilPolls(page, 1);
  expect(errors).toEqual([]);
  return page;
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
  return p.evaluate(pollsInPage);
}

/** Waits until the page has finished `n` polls more than it had (the page is updating, not frozen). */
async function untilPolls(p: Page, n: number, timeoutMs = 20 * REAL_INTERVAL_MS): Promise<void> {
  const from = await polls(p);
  // A function, not a string: the page's CSP forbids eval, which a string predicate needs.
  await expect.poll(() => polls(p), { timeout: timeoutMs, interval: 100 }).toBeGreaterThanOrEqual(from + n);
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
  it(
    'shows every region of the default topology, with words next to every colour, in under 150 KB',
    async () => {
      const cp = await start();
      const sent: { url: string; bytes: number }[] = [];
      page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('requestfinished', async (request) => {
        if (!new URL(request.url()).pathname.startsWith('/v1/')) {
          const sizes = await request.sizes();
          sent.push({ url: request.url(), bytes: sizes.responseBodySize + sizes.responseHeadersSize });
        }
      });
      await page.goto(cp.gatewayUrl);
      await untilPolls(page, 2);

      for (const region of REGIONS) {
        await expect
          .poll(() => marker(page as Page, region).getAttribute('data-status'), PAGE_WAIT)
          .toBe('healthy');
        expect(await marker(page, region).textContent()).toContain(`${region} · healthy`);
        expect(await page.locator(`#regions tr[data-region="${region}"]`).textContent()).toContain('healthy');
        // Its availability over the last hour and day, in words against the SLA.
        for (const window of ['hour', 'day']) {
          await expect
            .poll(() => availabilityText(page as Page, region, window), PAGE_WAIT)
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
    'takes us-east-1 down from its control: the failover shows in the timeline, is approved from it, the region turns failed, and the page updates from a survivor',
    async () => {
      // The approval step holds the failover on the timeline until the page's Approve button answers it.
      const cp = await start((raw) => {
        raw.failover_policies.automatic_failover.require_manual_approval = true;
        // At SPEED the policy's 60 s decision timeout is 12 real seconds from the approval being asked
        // to the click, which the page's polls and a busy machine can spend: the failover would end
        // cancelled before the button is pressed. The timeout is tested in test/statemachine.
        raw.failover_policies.automatic_failover.decision_timeout_seconds = 3600;
      });
      const p = await open(cp.gatewayUrl);
      await p.selectOption('#control-region', 'us-east-1');
      await p.click('#fault-down');
      await expect.poll(() => p.textContent('#control-result'), PAGE_WAIT).toContain('down on us-east-1');
      expect((await call(`${cp.gatewayUrl}/v1/sim/faults`)).body.faults).toMatchObject([
        { region: 'us-east-1', kind: 'down' },
      ]);

      // Its epoch is 0 on a quiet machine; a plane starved of CPU may have fenced and unfenced a
      // region before (each a new epoch), which the simulator's tests cover: any epoch's will do.
      const failover = p.locator('#failovers article[data-failover^="failover-us-east-1-e"]').first();
      await failover.waitFor({ timeout: 40 * REAL_INTERVAL_MS });
      const id = (await failover.getAttribute('data-failover')) as string;
      const approve = failover.getByRole('button', { name: `Approve ${id}` });
      await approve.waitFor({ timeout: 40 * REAL_INTERVAL_MS });
      expect(await failover.getAttribute('data-status')).toBe('awaiting_approval');
      await approve.click();
      await p.waitForSelector(`#failovers article[data-failover="${id}"][data-status="completed"]`, {
        timeout: 40 * REAL_INTERVAL_MS,
      });
      expect(await p.textContent('#control-result')).toContain(`Approve ${id}: `);
      // Every step with its duration, in order.
      const steps = await failover.locator('li.step').allTextContents();
      expect(steps[0]).toMatch(/^verify failure.*succeeded · [\d.]+ (ms|s)/);
      expect(steps.join('\n')).toContain('update dns routing');

      await expect.poll(() => marker(p, 'us-east-1').getAttribute('data-status'), PAGE_WAIT).toBe('failed');
      expect(await marker(p, 'us-east-1').textContent()).toContain('us-east-1 · failed');
      // Its last hour's availability drops below 100 % once a minute sampled it unreachable or
      // failed (a simulated minute is 12 s here).
      await expect
        .poll(() => availabilityText(p, 'us-east-1', 'hour'), { timeout: 20 * REAL_INTERVAL_MS })
        .toMatch(/below 99\.99 %/);
      const hour = Number((await availabilityText(p, 'us-east-1', 'hour')).split(' %')[0]);
      expect(hour).toBeLessThan(100);
      expect(await availabilityText(p, 'eu-west-1', 'hour')).toMatch(/^100 % meets/);
      // The page talks to a surviving region and goes on updating from it.
      const answering = await p.getAttribute('#source', 'data-region');
      expect(['eu-west-1', 'ap-south-1']).toContain(answering);
      await untilPolls(p, 2);
      expect(await p.textContent('#notice')).toMatch(/Switched from gateway to (eu-west-1|ap-south-1)/);
      await p.screenshot({ path: `${ARTIFACTS}dashboard-failover.png`, fullPage: true });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'goes on updating from another region when the region that served it goes down',
    async () => {
      const cp = await start();
      const p = await open(`${cp.regions['us-east-1']?.url}/`);
      expect(await p.getAttribute('#source', 'data-region')).toBe('us-east-1');

      expect(
        (await post(`${cp.gatewayUrl}/v1/sim/faults`, { region: 'us-east-1', kind: 'down' })).status,
      ).toBe(201);
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
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'through cortex dashboard (the way it runs on AWS) against the local plane: read-only, every region shown, and it says when the proxy moves to another region',
    async () => {
      const cp = await start();
      const proxy = await startDashboardProxy({
        upstreams: await nameUpstreams(REGIONS.map((r) => cp.regions[r]?.url ?? '')),
        port: 0,
      });
      try {
        const p = await open(`${proxy.url}/`);
        for (const region of REGIONS) {
          await expect.poll(() => marker(p, region).getAttribute('data-status'), PAGE_WAIT).toBe('healthy');
        }
        expect(await p.getAttribute('#source', 'data-region')).toBe('us-east-1');
        expect(await p.textContent('#source')).toContain(`signed by cortex dashboard at ${proxy.url}`);
        // No fault API answers through it and it was not allowed to act: no control is shown.
        expect(await p.isVisible('#fault-down')).toBe(false);
        expect(await p.isVisible('#failover-start')).toBe(false);
        expect(await p.isVisible('#controls .only-read-only')).toBe(true);
        // Told once that there is no fault API or event log here, the page stops asking for them.
        const localAsks: string[] = [];
        p.on('request', (r) => {
          if (/^\/v1\/(sim|events)/.test(new URL(r.url()).pathname)) localAsks.push(r.url());
        });
        await untilPolls(p, 2);
        expect(localAsks).toEqual([]);

        expect(
          (await post(`${cp.gatewayUrl}/v1/sim/faults`, { region: 'us-east-1', kind: 'down' })).status,
        ).toBe(201);
        await p.waitForSelector('#source:is([data-region="eu-west-1"], [data-region="ap-south-1"])', {
          timeout: 10 * REAL_INTERVAL_MS,
        });
        await untilPolls(p, 2);
        expect(await p.textContent('#notice')).toMatch(
          /Switched from us-east-1 to \S+ .*us-east-1: connection/,
        );
        expect(await p.textContent('#endpoints [data-endpoint="us-east-1"]')).toContain('not answering');
      } finally {
        await proxy.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

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
      for (const region of ['eu-west-1', 'ap-south-1'] as const) {
        for (const path of paths) {
          const answer = await fetch(`${cp.regions[region]?.url}${path}`, { headers: { origin } });
          expect(answer.status, `${region} ${path}`).toBe(200);
          // Readable by a page from another loopback origin (the page moves between endpoints).
          expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
        }
      }
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
