/**
 * The local runtime answers as the AWS deployment it stands for: by default its compliance rules see
 * the AWS deployment's controls (AWS_DEPLOYMENT_FACTS, what a deployed function uses), so a route
 * and a compliance check with regulated data answer exactly as on AWS. With the local stores' own
 * facts (`cortex local --no-aws-controls`) regulated data is refused, and the refusal says why.
 * Approvals and audit reports replicate between the regional stores like the rest of the state.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import type { DeploymentFacts } from '../../lib/core/compliance/types.ts';
import { createRegionalApi } from '../../lib/local/regional-api.ts';
import { parseFunctionEnvironment } from '../../lib/runtime/env.ts';
import { deploymentPort, type Region } from '../../lib/runtime/lambda.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { httpEvent } from '../support/events.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const started: { runtime: LocalRuntime; dataDir: string }[] = [];

/** A fresh runtime; `deploymentFacts` left out means the local default. */
async function runtime(deploymentFacts?: DeploymentFacts, still = false): Promise<LocalRuntime> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cortex-compliance-'));
  const rt = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 0,
    // Time that stands still: two runtimes answer at the same instant.
    ...(still ? { scheduler: new ManualScheduler() } : {}),
    log: () => undefined,
    ...(deploymentFacts ? { deploymentFacts } : {}),
  });
  started.push({ runtime: rt, dataDir });
  return rt;
}

afterAll(async () => {
  for (const { runtime: rt, dataDir } of started.splice(0)) {
    await rt.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

async function call(rt: LocalRuntime, region: string, method: string, path: string, body?: unknown) {
  const api = createRegionalApi(rt.region(region).deps);
  const result = await api(httpEvent({ method, path, ...(body === undefined ? {} : { body }) }));
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

/**
 * Reads until `done` holds, then answers the last read (the caller's assertion names what was
 * missing). Replication between the local replicas takes a busy machine its own time: 20 s is a
 * deadline for a value that never comes, not a speed.
 */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 1_000; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
  return read();
}

const HIPAA_PII_US = {
  task_id: 'hipaa-pii-us',
  source: { country: 'US' },
  requirements: { compliance: ['hipaa'], data_residency: 'US', data_classification: 'pii' },
};
const GDPR_PII_DE = {
  task_id: 'gdpr-pii-de',
  source: { country: 'DE' },
  requirements: { compliance: ['gdpr'], data_residency: 'EU', data_classification: 'pii' },
};

describe('local answers equal to AWS answers', () => {
  it('routes and checks pii locally exactly as with the AWS deployment facts', async () => {
    const local = await runtime(undefined, true);
    // What a deployed function answers with: the Lambda root's deployment port, environment as the CDK sets it.
    const env = parseFunctionEnvironment('router', {
      CORTEX_REGION_ID: 'us-east-1',
      CORTEX_TABLE_NAME: 'cortex-state',
    });
    const aws = await runtime(deploymentPort({ env } as unknown as Region), true);
    for (const [region, task] of [
      ['us-east-1', HIPAA_PII_US],
      ['eu-west-1', GDPR_PII_DE],
    ] as const) {
      const here = await call(local, region, 'POST', '/v1/route', task);
      const there = await call(aws, region, 'POST', '/v1/route', task);
      expect(here.status).toBe(200);
      expect(here.body.region).toBe(region);
      expect(here).toEqual(there);
    }
    for (const check of [
      { task_id: 'check-1', data_classification: 'pii', user_location: 'US', frameworks: ['hipaa'] },
      { task_id: 'check-2', data_classification: 'pii', user_location: 'DE', frameworks: ['gdpr'] },
      {
        task_id: 'check-3',
        data_classification: 'sensitive',
        user_location: 'IN',
        target_region: 'us-east-1',
      },
    ]) {
      const here = await call(local, 'eu-west-1', 'POST', '/v1/compliance/check', check);
      const there = await call(aws, 'eu-west-1', 'POST', '/v1/compliance/check', check);
      expect(here.status).toBe(200);
      // Every field but the check's own random id.
      expect({ ...here.body, check_id: 'id' }).toEqual({ ...there.body, check_id: 'id' });
    }
    const gdpr = await call(local, 'eu-west-1', 'POST', '/v1/compliance/check', {
      data_classification: 'pii',
      user_location: 'DE',
    });
    expect(gdpr.body).toMatchObject({ deployment: 'aws', compliant_regions: ['eu-west-1'] });
  });
});

describe('compliance on the local runtime', () => {
  it('refuses pii on the local stores as they are (--no-aws-controls), and says why', async () => {
    const rt = await runtime(LOCAL_DEPLOYMENT_FACTS);
    const answer = await call(rt, 'us-east-1', 'POST', '/v1/route', {
      task_id: 'local-pii',
      source: { country: 'US' },
      requirements: { data_classification: 'pii' },
    });
    expect(answer.status).toBe(422);
    const us = answer.body.excluded.find((e: { region: string }) => e.region === 'us-east-1');
    expect(us.reasons).toContain(
      'encryption at rest is required (regulated data; united_states data_residency.encryption_required; soc2 encryption_at_rest) but the deployment (local) does not encrypt at rest',
    );
    const check = await call(rt, 'us-east-1', 'POST', '/v1/compliance/check', {
      data_classification: 'internal',
      user_location: 'US',
    });
    expect(check.body).toMatchObject({
      deployment: 'local',
      compliant_regions: ['us-east-1', 'eu-west-1', 'ap-south-1'],
    });
  });

  it('accepts it by default; approvals and audits replicate', async () => {
    const rt = await runtime();
    const routed = await call(rt, 'ap-south-1', 'POST', '/v1/route', {
      task_id: 'local-in',
      source: { country: 'IN' },
      requirements: { data_classification: 'sensitive', approval_ref: 'MEITY-LOCAL-1', max_latency_ms: 50 },
    });
    expect(routed.status).toBe(200);
    expect(routed.body.region).toBe('ap-south-1');

    const approved = await call(rt, 'ap-south-1', 'POST', '/v1/compliance/check', {
      task_id: 'local-in-2',
      data_classification: 'sensitive',
      user_location: 'IN',
      target_region: 'us-east-1',
      approval_ref: 'MEITY-LOCAL-2',
    });
    expect(approved.body).toMatchObject({
      deployment: 'aws',
      compliant: true,
      approval: { recorded: true },
    });
    const audit = await call(rt, 'ap-south-1', 'POST', '/v1/compliance/audits');
    expect(audit.status).toBe(201);
    expect(audit.body).toMatchObject({
      status: 'compliant',
      total_violations: 0,
      deployment: { source: 'aws' },
    });

    const us = rt.region('us-east-1').deps.compliance;
    const approvals = await eventually(
      async () => (await us?.listApprovals()) ?? [],
      (list) => list.length > 0,
    );
    expect(approvals.map((a) => a.approval_ref)).toEqual(['MEITY-LOCAL-2']);
    const seen = await eventually(
      () => call(rt, 'us-east-1', 'GET', `/v1/compliance/audits/${audit.body.audit_id}`),
      (answer) => answer.status === 200,
    );
    expect(seen.body).toEqual(audit.body);
  });
});
