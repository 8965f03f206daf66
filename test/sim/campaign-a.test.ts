/**
 * Random fault schedules on the shipped default topology (the spec's busy usage), every invariant
 * checked after every event: the first half of the thousand CI runs per push (campaign-b.test.ts
 * runs the other half, in parallel). A failure names its seed: `cortex simulate --seed <s> --schedules 1`.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { campaign } from '../../lib/sim/run.ts';

const topology = validateTopology(
  JSON.parse(readFileSync(new URL('../../topology/default.json', import.meta.url), 'utf8')),
);

it('500 schedules (seeds 1..500) hold every invariant', async () => {
  const summary = await campaign(topology, { schedules: 500, seed: 1 });
  const broken = Object.entries(summary.invariants)
    .filter(([, v]) => v.first_violation)
    .map(([name, v]) => `${name}: seed ${v.first_violation?.seed}: ${v.first_violation?.detail}`);
  expect(broken).toEqual([]);
  expect(Object.values(summary.invariants).every((v) => v.held === 500)).toBe(true);
}, 600_000);
