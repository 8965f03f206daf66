/**
 * The router and the failover's target selection apply the compliance rules: no routing decision
 * and no failover moves data where the policy forbids.
 */
import { describe, expect, it } from 'vitest';
import { AWS_DEPLOYMENT_FACTS, LOCAL_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import { selectFailoverTarget } from '../../lib/core/failover/target.ts';
import {
  decideRoute,
  type RegionLiveState,
  type RouteInput,
  type TaskRequirements,
} from '../../lib/core/routing.ts';
import type { Handoff, RegionStatus, RegionStatusRecord } from '../../lib/core/state/records.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';

const t = loadTopologyFile();
const aws = { deployment: AWS_DEPLOYMENT_FACTS };

function live(statuses: Record<string, RegionStatus> = {}, free?: number): Map<string, RegionLiveState> {
  return new Map(
    t.regions.map((r) => {
      const pool = t.global_resource_pool.regional_allocation[r.region_id];
      if (!pool) throw new Error(`no pool for ${r.region_id}`);
      const usage =
        free === undefined
          ? pool.current_usage
          : {
              workers: Math.floor(pool.workers * (1 - free)),
              tokens_used: Math.floor(pool.tokens_per_hour * (1 - free)),
              compute_units: Math.floor(pool.compute_units * (1 - free)),
            };
      return [r.region_id, { status: statuses[r.region_id] ?? 'healthy', allocation: pool, usage }];
    }),
  );
}

function task(
  requirements: TaskRequirements,
  source: RouteInput['source'] = { region: 'us-east-1' },
): RouteInput {
  return { task_id: 'task-1', source, requirements };
}

const excludedReasons = (decision: ReturnType<typeof decideRoute>, region: string) =>
  decision.excluded.find((e) => e.region === region)?.reasons ?? [];

describe('routing under the compliance rules', () => {
  it("keeps a German's personal data in the EU whatever the scores say", () => {
    const decision = decideRoute(t, task({ data_classification: 'pii' }, { country: 'DE' }), live(), aws);
    expect(decision.candidates.map((c) => c.region)).toEqual(['eu-west-1']);
    expect(excludedReasons(decision, 'us-east-1')).toEqual([
      'european_union localizes pii data from DE in EU, GB, EEA; it may go only to countries with an adequacy decision (GB, CH), not us-east-1 (US)',
    ]);
  });

  it('takes the origin from the residency, then from the source region, when no country is given', () => {
    const eu = decideRoute(t, task({ data_classification: 'sensitive', data_residency: 'EEA' }), live(), aws);
    expect(eu.region).toBe('eu-west-1');
    const us = decideRoute(t, task({ data_classification: 'sensitive' }), live(), aws);
    expect(us.candidates.map((c) => c.region)).toEqual(['us-east-1']);
    expect(excludedReasons(us, 'ap-south-1')[0]).toMatch(/^united_states restricts cross-border transfers/);
  });

  it('leaves unclassified and internal tasks where the scores put them (only a prohibition binds them)', () => {
    const free = decideRoute(t, task({}), live(), aws);
    const internal = decideRoute(t, task({ data_classification: 'internal' }), live(), aws);
    expect(internal.candidates).toEqual(free.candidates);
    expect(free.region).toBe('ap-south-1');
  });

  it('routes across a border only with an approval, scores it lower, and reports the approval to record', () => {
    const from = { country: 'IN' } as const;
    const failed = { 'ap-south-1': 'failed' } as const;
    const without = decideRoute(t, task({ data_classification: 'sensitive' }, from), live(failed), aws);
    expect(without.region).toBeUndefined();
    expect(excludedReasons(without, 'us-east-1')).toEqual([
      'india requires an approval for cross-border transfers: sensitive data from IN to us-east-1 (US) needs an approval_ref, and none was given',
    ]);
    const approved = decideRoute(
      t,
      task({ data_classification: 'sensitive', approval_ref: 'MEITY-2026-17' }, from),
      live(failed),
      aws,
    );
    expect(approved.candidates.map((c) => c.factors.compliance)).toEqual([50, 50]);
    expect(approved.approvals).toEqual([
      { region: 'us-east-1', jurisdictions: ['india'] },
      { region: 'eu-west-1', jurisdictions: ['india'] },
    ]);
    const home = decideRoute(
      t,
      task({ data_classification: 'sensitive', approval_ref: 'MEITY-2026-17' }, from),
      live(),
      aws,
    );
    expect(home.candidates.find((c) => c.region === 'ap-south-1')?.factors.compliance).toBe(100);
  });

  it('refuses regulated data on a deployment that does not encrypt, and without deployment facts', () => {
    const local = decideRoute(t, task({ data_classification: 'pii' }), live(), {
      deployment: LOCAL_DEPLOYMENT_FACTS,
    });
    expect(local.region).toBeUndefined();
    expect(excludedReasons(local, 'us-east-1')).toContain(
      'encryption at rest is required (regulated data; united_states data_residency.encryption_required; soc2 encryption_at_rest) but the deployment (local) does not encrypt at rest',
    );
    expect(decideRoute(t, task({ data_classification: 'pii' }), live()).region).toBeUndefined();
  });
});

function status(region: string, value: RegionStatus = 'healthy'): RegionStatusRecord {
  return {
    region_id: region,
    status: value,
    role: 'active',
    epoch: 1,
    updated_at: '2026-11-26T12:00:00Z',
    updated_by: 'test',
  };
}

function pending(id: string, task: Record<string, unknown>, target = 'eu-west-1'): Handoff {
  return {
    handoff_id: `cross-region-${id}`,
    task_id: id,
    source_region: target,
    target_region: target,
    routing_score: 70,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: { task_id: id, ...task },
    request_hash: 'h',
    decision: { candidates: [], excluded: [] },
  };
}

describe('failover target selection under the compliance rules', () => {
  const statuses = new Map(t.regions.map((r) => [r.region_id, status(r.region_id)]));

  it('keeps the pending personal data of a failed EU region pending rather than move it out of the EU', () => {
    const choice = selectFailoverTarget({
      topology: t,
      failedRegion: 'eu-west-1',
      statuses,
      live: live({}, 0.9),
      pendingHandoffs: [
        pending('de-pii', { source: { country: 'DE' }, requirements: { data_classification: 'pii' } }),
        pending('fr-internal', {
          source: { country: 'FR' },
          requirements: { data_classification: 'internal' },
        }),
      ],
      deployment: AWS_DEPLOYMENT_FACTS,
    });
    expect(choice.target).toBe('us-east-1');
    expect(choice.workloads_pending).toEqual([
      {
        handoff_id: 'cross-region-de-pii',
        task_id: 'de-pii',
        reason:
          'european_union localizes pii data from DE in EU, GB, EEA; it may go only to countries with an adequacy decision (GB, CH), not us-east-1 (US)',
      },
    ]);
    expect(choice.considered.find((c) => c.region === 'ap-south-1')?.reasons).toEqual([
      'would break data residency of 1 pending workload(s)',
    ]);
  });

  it('moves approved sensitive data to a region its approval lets it reach', () => {
    const choice = selectFailoverTarget({
      topology: t,
      failedRegion: 'ap-south-1',
      statuses,
      live: live({}, 0.9),
      pendingHandoffs: [
        pending(
          'in-sens',
          {
            source: { country: 'IN' },
            requirements: { data_classification: 'sensitive', approval_ref: 'MEITY-9' },
          },
          'ap-south-1',
        ),
      ],
      deployment: AWS_DEPLOYMENT_FACTS,
    });
    expect(choice.target).toBe('us-east-1');
    expect(choice.workloads_pending).toEqual([]);
  });
});
