import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../lib/core/errors.ts';
import { judgeCapacity, judgeHealth, overallStatus, unreadable } from '../../lib/core/ops/daily-report.ts';
import {
  checkConfirmation,
  notAnsweringReason,
  restoredStatus,
  shutdownStatus,
} from '../../lib/core/ops/shutdown.ts';
import type { RegionStatusRecord } from '../../lib/core/state/records.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { mergeStatusSlots, statusSlot } from '../../lib/core/state/status-merge.ts';

const NOW = Date.parse('2026-12-03T06:00:00Z');

function status(overrides: Partial<RegionStatusRecord> = {}): RegionStatusRecord {
  return {
    region_id: 'us-east-1',
    status: 'healthy',
    role: 'primary',
    epoch: 4,
    updated_at: '2026-12-03T05:00:00Z',
    updated_by: 'topology',
    ...overrides,
  };
}

describe('the confirmation of an emergency shutdown', () => {
  it('is required and must name the region itself', () => {
    expect(() => checkConfirmation('us-east-1', undefined, 'an emergency shutdown')).toThrow(ValidationError);
    expect(() => checkConfirmation('us-east-1', 'us-east-2', 'an emergency shutdown')).toThrow(
      /not confirmed/,
    );
    expect(() => checkConfirmation('us-east-1', 'us-east-1', 'an emergency shutdown')).not.toThrow();
  });
});

describe('the shutdown status', () => {
  it('is a status change like the others: not serving, epoch + 1, with the end of its drain', () => {
    const next = shutdownStatus(status(), { reason: 'breach', by: 'ops', now: NOW, drainSeconds: 300 });
    expect(next).toMatchObject({ status: 'shutdown', epoch: 5, role: 'primary' });
    expect(next.drain_until).toBe('2026-12-03T06:05:00.000Z');
    expect(isServing(next.status)).toBe(false);
  });

  it('is refused for a region already shut down, and a restore only for one that is', () => {
    expect(() =>
      shutdownStatus(status({ status: 'shutdown' }), { reason: 'x', by: 'ops', now: NOW, drainSeconds: 0 }),
    ).toThrow(ConflictError);
    expect(() => restoredStatus(status({ status: 'failed' }), { reason: 'x', by: 'ops', now: NOW })).toThrow(
      /only a shut-down region/,
    );
    expect(
      restoredStatus(status({ status: 'shutdown', epoch: 5 }), { reason: 'x', by: 'ops', now: NOW }),
    ).toMatchObject({ status: 'healthy', epoch: 6 });
  });

  it('wins over an automatic decision made from the same epoch, and loses to a higher one', () => {
    const shut = status({ status: 'shutdown', epoch: 5 });
    const failed = status({ status: 'failed', epoch: 5 });
    const fenced = status({ status: 'fenced', epoch: 5, updated_by: 'health-probe@us-east-1' });
    expect(
      mergeStatusSlots([statusSlot('us-east-1#eu-west-1', failed), statusSlot('us-east-1#ap-south-1', shut)])
        ?.record.status,
    ).toBe('shutdown');
    // The region's own fencing of itself never undoes another region's write at the same epoch.
    expect(
      mergeStatusSlots([statusSlot('us-east-1#us-east-1', fenced), statusSlot('us-east-1#eu-west-1', shut)])
        ?.record.status,
    ).toBe('shutdown');
    const restored = status({ status: 'healthy', epoch: 6 });
    expect(
      mergeStatusSlots([
        statusSlot('us-east-1#eu-west-1', shut),
        statusSlot('us-east-1#ap-south-1', restored),
      ])?.record.status,
    ).toBe('healthy');
  });
});

describe('whether a shut-down region still answers', () => {
  const input = { region: 'us-east-1', now: NOW, freshForMs: 90_000 };
  it('needs a fresh heartbeat and, among fresh views, one that reaches it', () => {
    expect(notAnsweringReason({ ...input, heartbeatAt: undefined, views: [] })).toMatch(/no heartbeat/);
    expect(notAnsweringReason({ ...input, heartbeatAt: NOW - 120_000, views: [] })).toMatch(/120 s old/);
    expect(notAnsweringReason({ ...input, heartbeatAt: NOW - 10_000, views: [] })).toBeUndefined();
    const unreachable = { target: 'us-east-1', reachable: false, updated_at: NOW - 5_000 };
    expect(notAnsweringReason({ ...input, heartbeatAt: NOW - 10_000, views: [unreachable] })).toMatch(
      /no observer reaches/,
    );
    const stale = { target: 'us-east-1', reachable: false, updated_at: NOW - 500_000 };
    expect(notAnsweringReason({ ...input, heartbeatAt: NOW - 10_000, views: [stale] })).toBeUndefined();
  });
});

describe('the daily report verdicts', () => {
  const region = (r: string, status: string, serving: boolean, health = 'healthy') => ({
    region: r,
    status,
    serving,
    epoch: 1,
    health,
    action: 'none needed',
  });

  it('warn for an operator shutdown, and are critical for a failed region or none serving', () => {
    expect(judgeHealth({ regions: [region('a-b-1', 'healthy', true)] }).status).toBe('ok');
    expect(
      judgeHealth({ regions: [region('a-b-1', 'shutdown', false), region('a-c-1', 'healthy', true)] }).status,
    ).toBe('warning');
    expect(
      judgeHealth({ regions: [region('a-b-1', 'failed', false), region('a-c-1', 'healthy', true)] }).status,
    ).toBe('critical');
    expect(judgeHealth({ regions: [region('a-b-1', 'shutdown', false)] }).status).toBe('critical');
  });

  it('take the worst check for the report, a check that could not be read counting as a warning', () => {
    const ok = judgeHealth({ regions: [] as never[] });
    const capacity = judgeCapacity({ regions: [{ region: 'a-b-1', level: 'critical', utilization: 0.9 }] });
    const checks = {
      health: { status: 'ok' as const, findings: [] },
      replication: unreadable<never>('boom'),
      latency: { status: 'ok' as const, findings: [] },
      capacity: { status: 'ok' as const, findings: [] },
      compliance: { status: 'ok' as const, findings: [] },
      cost: unreadable<never>('no figure'),
    };
    expect(ok.status).toBe('critical');
    expect(overallStatus(checks)).toBe('warning');
    expect(overallStatus({ ...checks, capacity })).toBe('critical');
    expect(overallStatus({ ...checks, replication: { status: 'ok', findings: [] } })).toBe('ok');
  });
});
