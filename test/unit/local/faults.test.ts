import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '../../../lib/core/errors.ts';
import { SimNetwork } from '../../../lib/local/faults.ts';
import { loadTopologyFile } from '../../../lib/topology/load.ts';

const topology = loadTopologyFile();
const WITNESS = topology.witnesses[0]?.witness_id ?? '';

function network() {
  const calls: string[] = [];
  const replication = {
    pause: (from: string, to: string) => calls.push(`pause ${from}>${to}`),
    resume: (from: string, to: string) => calls.push(`resume ${from}>${to}`),
  };
  return { net: new SimNetwork({ topology, clock: { now: () => 0 }, replication }), calls };
}

function issues(run: () => unknown): { field: string; reason: string }[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return [...error.details];
    throw error;
  }
  throw new Error('expected a ValidationError');
}

describe('the simulated network', () => {
  it('a partition with no peers cuts the region from every other region and the witness, both ways', () => {
    const { net, calls } = network();
    const fault = net.inject({ region: 'us-east-1', kind: 'partition' });
    expect(fault.peers).toEqual(['eu-west-1', 'ap-south-1', WITNESS]);
    expect(net.blocked('eu-west-1', 'us-east-1')).toBe(true);
    expect(net.blocked('us-east-1', WITNESS)).toBe(true);
    expect(net.blocked('eu-west-1', 'ap-south-1')).toBe(false);
    expect(calls.sort()).toEqual(
      [
        'pause us-east-1>eu-west-1',
        'pause eu-west-1>us-east-1',
        'pause us-east-1>ap-south-1',
        'pause ap-south-1>us-east-1',
      ].sort(),
    );
  });

  it('a partition with peers cuts only those links', () => {
    const { net } = network();
    net.inject({ region: 'eu-west-1', kind: 'partition', peers: ['ap-south-1'] });
    expect(net.partitioned('ap-south-1', 'eu-west-1')).toBe(true);
    expect(net.blocked('eu-west-1', 'us-east-1')).toBe(false);
  });

  it('a down region is blocked from everyone and its replication stops', () => {
    const { net, calls } = network();
    net.inject({ region: 'ap-south-1', kind: 'down' });
    expect(net.isDown('ap-south-1')).toBe(true);
    expect(net.blocked('us-east-1', 'ap-south-1')).toBe(true);
    expect(net.partitioned('us-east-1', 'ap-south-1')).toBe(false);
    expect(calls).toHaveLength(4);
  });

  it('heal resumes only links no remaining fault cuts', () => {
    const { net, calls } = network();
    net.inject({ region: 'us-east-1', kind: 'partition', peers: ['eu-west-1'] });
    net.inject({ region: 'eu-west-1', kind: 'down' });
    calls.length = 0;
    net.heal('us-east-1');
    expect(calls).toEqual([]);
    net.heal();
    expect(calls.sort()).toEqual(
      [
        'resume eu-west-1>us-east-1',
        'resume us-east-1>eu-west-1',
        'resume eu-west-1>ap-south-1',
        'resume ap-south-1>eu-west-1',
      ].sort(),
    );
    expect(net.list()).toEqual([]);
  });

  it('errors fail requests at the rate and slow adds latency; a kind posted again replaces the old one', () => {
    const { net } = network();
    net.inject({ region: 'us-east-1', kind: 'errors', rate: 0.5 });
    expect(net.failsRequest('us-east-1', () => 0.2)).toBe(true);
    expect(net.failsRequest('us-east-1', () => 0.7)).toBe(false);
    net.inject({ region: 'us-east-1', kind: 'errors', rate: 0 });
    expect(net.failsRequest('us-east-1', () => 0)).toBe(false);
    net.inject({ region: 'us-east-1', kind: 'slow', latency_ms: 2_500 });
    expect(net.extraLatencyMs('us-east-1')).toBe(2_500);
    expect(net.list().map((f) => f.kind)).toEqual(['errors', 'slow']);
  });

  it('rejects bad faults naming each bad field, and changes nothing', () => {
    const { net } = network();
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'errors', rate: 1.5 }))).toEqual([
      { field: 'rate', reason: 'must be a number from 0 to 1' },
    ]);
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'melt' }))[0]?.field).toBe('kind');
    expect(issues(() => net.inject({ kind: 'down' }))).toEqual([{ field: 'region', reason: 'required' }]);
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'down', rate: 1 }))).toEqual([
      { field: 'rate', reason: 'applies only to kind errors' },
    ]);
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'slow', latency_ms: -1 }))[0]?.field).toBe(
      'latency_ms',
    );
    expect(
      issues(() =>
        net.inject({ region: 'us-east-1', kind: 'partition', peers: ['eu-west-1', 'mars-1', 'us-east-1'] }),
      ),
    ).toEqual([
      { field: 'peers[1]', reason: expect.stringContaining('unknown region or witness "mars-1"') },
      { field: 'peers[2]', reason: 'a region cannot be partitioned from itself' },
    ]);
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'down', extra: true }))).toEqual([
      { field: 'extra', reason: 'unknown field "extra"' },
    ]);
    expect(issues(() => net.inject({ region: WITNESS, kind: 'slow' }))[0]?.field).toBe('kind');
    expect(() => net.inject({ region: 'mars-1', kind: 'down' })).toThrow(NotFoundError);
    expect(net.list()).toEqual([]);
  });
});

describe('an mcp_down fault', () => {
  it('takes the named servers of one region down and nothing else, and cuts no replication link', () => {
    const { net, calls } = network();
    const fault = net.inject({ region: 'us-east-1', kind: 'mcp_down', servers: ['github', 'n8n'] });
    expect(fault).toMatchObject({ region: 'us-east-1', kind: 'mcp_down', servers: ['github', 'n8n'] });
    expect(net.isMcpServerDown('us-east-1', 'github')).toBe(true);
    expect(net.isMcpServerDown('us-east-1', 'postgres')).toBe(false);
    expect(net.isMcpServerDown('eu-west-1', 'github')).toBe(false);
    expect(net.isDown('us-east-1')).toBe(false);
    expect(calls).toEqual([]);
    net.heal('us-east-1');
    expect(net.isMcpServerDown('us-east-1', 'github')).toBe(false);
  });

  it('is refused naming the field without servers, with bad ones, or with servers on another kind; nothing is injected', () => {
    const { net } = network();
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'mcp_down' }))).toEqual([
      { field: 'servers', reason: 'required' },
    ]);
    expect(
      issues(() => net.inject({ region: 'us-east-1', kind: 'mcp_down', servers: ['GitHub', 'n8n', 'n8n'] })),
    ).toEqual([
      { field: 'servers[0]', reason: 'must be an MCP server name (a-z, 0-9, _ and -)' },
      { field: 'servers[2]', reason: '"n8n" is listed twice' },
    ]);
    expect(issues(() => net.inject({ region: 'us-east-1', kind: 'down', servers: ['github'] }))).toEqual([
      { field: 'servers', reason: 'applies only to kind mcp_down' },
    ]);
    expect(
      issues(() => net.inject({ region: WITNESS, kind: 'mcp_down', servers: ['github'] }))[0]?.field,
    ).toBe('kind');
    expect(net.list()).toEqual([]);
  });
});
