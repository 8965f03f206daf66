/**
 * The page's client of the control plane: it knows every endpoint (the gateway and each region's
 * own) and moves on to the next when the one it talks to stops answering, as the CLI does
 * (lib/cli/client.ts), so the page keeps working while a region is dead.
 *
 * Served by `cortex dashboard` (lib/cli/dashboard.ts) the page talks to that proxy only: it signs each
 * call for a deployed plane's regional APIs and moves between them itself, and says in headers which
 * regional endpoint answered and which failed before it; the page shows those as its own switches.
 */

/** 503 codes that mean "this region did not act; another may" (as lib/cli/client.ts). */
const ELSEWHERE_CODES = new Set([
  'REGION_NOT_SERVING',
  'STATE_UNAVAILABLE',
  'COORDINATOR_UNREACHABLE',
  'INJECTED_FAULT',
]);

/** A region that is down resets the connection; a slow one is given this long before the next is asked. */
const TIMEOUT_MS = 5000;

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The regional endpoints the proxy tried before one answered: [{ name, why }]. */
function failedUpstreams(response) {
  try {
    return JSON.parse(decodeURIComponent(response.headers.get('x-cortex-upstream-failed') ?? '[]'));
  } catch {
    return [];
  }
}

/** One request to one endpoint: its JSON and the region that answered, or a thrown reason. */
async function request(base, path, init, timeoutMs = TIMEOUT_MS) {
  let response;
  try {
    response = await fetch(base + path, {
      ...init,
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const why = error?.name === 'TimeoutError' ? `no answer in ${timeoutMs / 1000} s` : 'connection failed';
    throw Object.assign(new Error(why), { unreachable: true, failed: [] });
  }
  const text = await response.text();
  let body;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const code = body?.error?.code;
  const failed = failedUpstreams(response);
  if (
    response.status >= 500 &&
    (ELSEWHERE_CODES.has(code) || code === undefined || code === 'NO_REGION_ANSWERS')
  ) {
    throw Object.assign(
      new Error(body?.error?.message ?? `answered ${response.status}${code ? ` ${code}` : ''}`),
      {
        unreachable: true,
        failed,
      },
    );
  }
  if (!response.ok) throw Object.assign(new ApiError(response.status, body), { failed });
  return {
    body,
    region: response.headers.get('x-cortex-region') ?? undefined,
    upstream: response.headers.get('x-cortex-upstream') ?? undefined,
    failed,
  };
}

export class Plane {
  /**
   * @param {{gateway: string, regions: Record<string, string>}} endpoints
   * @param {string} origin the page's own origin: asked first when it is one of the endpoints
   */
  constructor(endpoints, origin) {
    /** { upstreams: [{ name, url }], actions, timeout_ms } when served by cortex dashboard. */
    this.proxy = endpoints.proxy;
    this.current = 0;
    /** The last switch: { from, to, why, at } (shown on the page). */
    this.switched = undefined;
    /** Why each endpoint last failed, by name. */
    this.failures = new Map();
    if (this.proxy) {
      // Every call goes to the proxy; these are the regional endpoints behind it, for the page to name.
      this.gateway = origin;
      this.endpoints = this.proxy.upstreams.map((u) => ({ name: u.name, url: u.url }));
      return;
    }
    this.gateway = endpoints.gateway;
    const all = [
      { name: 'gateway', url: endpoints.gateway },
      ...Object.entries(endpoints.regions).map(([name, url]) => ({ name, url })),
    ].filter((e) => e.url);
    // The endpoint that served the page first (the gateway follows DNS; a region's page asks that region).
    const own = all.findIndex((e) => new URL(e.url).origin === origin);
    this.endpoints = own > 0 ? [all[own], ...all.filter((_, i) => i !== own)] : all;
  }

  get endpoint() {
    return this.endpoints[this.current];
  }

  /**
   * The API, from the current endpoint or, when it does not answer, the next one that does (which
   * then stays current). Errors the API answered (4xx) are the region's answer and are thrown as is.
   */
  async api(path, init) {
    if (this.proxy) return this.#throughProxy(path, init);
    const tried = [];
    for (let step = 0; step < this.endpoints.length; step += 1) {
      const index = (this.current + step) % this.endpoints.length;
      const endpoint = this.endpoints[index];
      try {
        const answer = await request(endpoint.url, path, init);
        if (index !== this.current) {
          this.switched = {
            from: this.endpoint.name,
            to: endpoint.name,
            why: tried.map((t) => `${t.name}: ${t.why}`).join('; '),
            at: new Date(),
          };
          this.current = index;
        }
        this.failures.delete(endpoint.name);
        return { ...answer, endpoint };
      } catch (error) {
        if (!error.unreachable) throw error;
        tried.push({ name: endpoint.name, why: error.message });
        this.failures.set(endpoint.name, error.message);
      }
    }
    throw Object.assign(
      new Error(`no endpoint answers (${tried.map((t) => `${t.name}: ${t.why}`).join('; ')})`),
      {
        unreachable: true,
      },
    );
  }

  /** One call through cortex dashboard: the regional endpoint that answered becomes the current one. */
  async #throughProxy(path, init) {
    let answer;
    try {
      answer = await request(this.gateway, path, init, this.proxy.timeout_ms);
    } catch (error) {
      // A refusal and a "no region answers" say which regional endpoints failed too.
      for (const f of error.failed ?? []) this.failures.set(f.name, f.why);
      throw error;
    }
    for (const f of answer.failed) this.failures.set(f.name, f.why);
    const index = this.endpoints.findIndex((e) => e.name === answer.upstream);
    if (index !== -1) {
      this.failures.delete(answer.upstream);
      if (index !== this.current) {
        this.switched = {
          from: this.endpoint.name,
          to: answer.upstream,
          why: answer.failed.map((f) => `${f.name}: ${f.why}`).join('; '),
          at: new Date(),
        };
        this.current = index;
      }
    }
    return { ...answer, endpoint: this.endpoint };
  }

  /** The local gateway's own routes (/v1/sim, /v1/events): they answer whatever the regions' faults. */
  async sim(path, init) {
    const answer = await request(this.gateway, path, init);
    return answer.body;
  }
}

/** JSON request options for a write. */
export function send(method, body) {
  return body === undefined
    ? { method }
    : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
