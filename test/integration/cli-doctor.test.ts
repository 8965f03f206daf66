/**
 * `cortex doctor` names each kind of problem in plain words, against stand-in regions that answer
 * as API Gateway and the handlers would: fenced (503), catching up, not authorized (403 with the
 * permission), regions that disagree on an epoch or a role, clocks apart; and the deploy plan lists
 * every region to bootstrap.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctorCommand } from '../../lib/cli/doctor.ts';
import { cli } from '../support/cli.ts';

interface Stand {
  readonly region: string;
  readonly health: { status: number; body: Record<string, unknown> };
  readonly regions: { status: number; body: unknown };
}

const servers: Server[] = [];

/** One stand-in region on loopback; `/v1/sim` is not served (as on AWS). */
async function stand(s: Stand): Promise<string> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-cortex-region', s.region);
    const answer = req.url === '/health' ? s.health : req.url === '/v1/regions' ? s.regions : undefined;
    res.statusCode = answer?.status ?? 404;
    res.end(JSON.stringify(answer?.body ?? { message: 'Not Found' }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const view = (region_id: string, epoch: number, role = 'active', status = 'healthy') => ({
  region_id,
  status,
  role,
  epoch,
  health: { state: 'healthy' },
});
const health = (region: string, status: string, serving: boolean, skewMs = 0, extra = {}) => ({
  region,
  status,
  serving,
  epoch: 1,
  checked_at: new Date(Date.now() + skewMs).toISOString(),
  ...extra,
});

let endpoints: string[];

beforeAll(async () => {
  endpoints = [
    await stand({
      region: 'us-east-1',
      health: { status: 200, body: health('us-east-1', 'healthy', true) },
      regions: {
        status: 200,
        body: { observer: 'us-east-1', regions: [view('us-east-1', 2), view('eu-west-1', 1)] },
      },
    }),
    await stand({
      region: 'eu-west-1',
      health: { status: 503, body: health('eu-west-1', 'fenced', false, 30_000) },
      regions: {
        status: 200,
        body: {
          observer: 'eu-west-1',
          regions: [view('us-east-1', 1, 'passive-warm'), view('eu-west-1', 1)],
        },
      },
    }),
    await stand({
      region: 'ap-south-1',
      health: {
        status: 503,
        body: health('ap-south-1', 'healthy', false, 0, {
          reason: 'catching up: no heartbeat of us-east-1 in this replica for over 90 s',
        }),
      },
      regions: {
        status: 403,
        body: {
          message:
            'User: arn:aws:sts::123456789012:assumed-role/ops/alice is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:ap-south-1:********2012:abc/$default/GET/v1/regions',
        },
      },
    }),
  ];
});
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

describe('cortex doctor names what is wrong', () => {
  it('fenced, catching up, not authorized, disagreements and skew, exit 1', async () => {
    const c = cli();
    expect(await c.run('doctor', '--endpoint', endpoints.join(','))).toBe(1);
    const err = c.err.join('\n');
    expect(err).toMatch(/eu-west-1: not serving \(GET \/health 503\): fenced: it cannot see a majority/);
    expect(err).toMatch(
      /ap-south-1: not serving \(GET \/health 503\): catching up: no heartbeat of us-east-1/,
    );
    expect(err).toMatch(
      /ap-south-1: not authorized \(GET \/v1\/regions HTTP 403\): the caller needs execute-api:Invoke on arn:aws:execute-api:ap-south-1:<account>:<api-id>\/\*\/GET\/v1\/regions/,
    );
    expect(err).toMatch(
      /regions disagree on us-east-1's epoch: us-east-1 sees 2, eu-west-1 sees 1 \(a replica is behind/,
    );
    expect(err).toMatch(
      /regions disagree on us-east-1's role: us-east-1 sees active, eu-west-1 sees passive-warm/,
    );
    expect(err).toMatch(/clock skew: the regions' clocks are (29|30|31)\.\d s apart/);
    const table = c.out.join('\n');
    expect(table).toMatch(/eu-west-1\s+\S+\s+fenced\s+1\s+\+(29|30)\.\d s\s+PROBLEM/);
    expect(table).toMatch(/ap-south-1\s+\S+\s+catching up\s+1\s+/);
  });

  it('a generous --max-skew leaves the clocks alone', async () => {
    const c = cli();
    expect(await c.run('doctor', '--endpoint', endpoints.join(','), '--max-skew', '60', '--json')).toBe(1);
    const report = JSON.parse(c.out.join('\n'));
    expect(report.ok).toBe(false);
    expect(report.problems.some((p: string) => p.startsWith('clock skew'))).toBe(false);
  });
});

describe('cortex doctor --ssm', () => {
  it('checks the URL each region publishes, and names a region that publishes none', async () => {
    const asked: string[] = [];
    const c = cli();
    const code = await doctorCommand(['--ssm', '--generation', 'g2', '--max-skew', '60'], c.io, {
      readParameter: async (region, name) => {
        asked.push(`${region} ${name}`);
        if (region === 'ap-south-1') throw Object.assign(new Error('nope'), { name: 'ParameterNotFound' });
        return endpoints[region === 'us-east-1' ? 0 : 1] as string;
      },
    });
    expect(code).toBe(1);
    expect(asked.sort()).toEqual([
      'ap-south-1 /cortex-g2/api-url/ap-south-1',
      'eu-west-1 /cortex-g2/api-url/eu-west-1',
      'us-east-1 /cortex-g2/api-url/us-east-1',
    ]);
    expect(c.out.join('\n')).toMatch(/us-east-1\s+http:\/\/127\.0\.0\.1:\d+\s+serving/);
    expect(c.err.join('\n')).toMatch(
      /ap-south-1: no API URL: SSM parameter \/cortex-g2\/api-url\/ap-south-1 in ap-south-1: not found \(is CortexRegion-ap-south-1 deployed\?\)/,
    );
  });

  it('refuses --generation without --ssm, and two endpoint sources', async () => {
    expect(await cli().run('doctor', '--generation', 'g2')).toBe(2);
    expect(await cli().run('doctor', '--ssm', '--endpoint', 'http://127.0.0.1:9')).toBe(2);
  });
});

describe('cortex deploy-plan', () => {
  it("lists every region to bootstrap, the witness's included, and the stacks in order", async () => {
    const c = cli();
    expect(await c.run('deploy-plan', '--account', '123456789012', '--json')).toBe(0);
    const plan = JSON.parse(c.out.join('\n'));
    expect(plan.bootstrap_regions).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1', 'us-west-2']);
    expect(plan.commands.bootstrap).toBe(
      'npx cdk bootstrap aws://123456789012/us-east-1 aws://123456789012/eu-west-1 aws://123456789012/ap-south-1 aws://123456789012/us-west-2',
    );
    expect(plan.waves[0]).toEqual([
      'CortexRegion-us-east-1',
      'CortexRegion-eu-west-1',
      'CortexRegion-ap-south-1',
    ]);
    expect(plan.waves.at(-1)).toEqual(['CortexWitness-witness-us-west-2']);
  });

  it('refuses an account id that is not one', async () => {
    const c = cli();
    expect(await c.run('deploy-plan', '--account', 'prod')).toBe(2);
    expect(c.err[0]).toMatch(/--account must be a 12-digit AWS account id/);
  });
});
