/**
 * Bundles one region's functions for real (esbuild, about a second) and checks what Lambda will load:
 * ESM with the topology baked in, the AWS SDK left to the runtime, and a small file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { buildCortexApp, logicalId, templateOf } from './build.ts';

describe('Lambda bundles', () => {
  const bundles = new Map<string, string>();
  let topologyName: string;

  beforeAll(() => {
    const built = buildCortexApp({ bundlingStacks: ['CortexRegion-us-east-1'] });
    topologyName = built.topology.name;
    const stack = built.regionalStacks.find((s) => s.regionId === 'us-east-1');
    if (!stack) throw new Error('no us-east-1 stack');
    const functions = templateOf(stack).findResources('AWS::Lambda::Function');
    const handlers = [
      ...CONCERNS.map((concern) => [concern, stack.handlers[concern]] as const),
      ['health-probe', stack.probe] as const,
      ['failover', stack.failover] as const,
      ['privacy-sweeper', stack.privacySweeper] as const,
      ['compliance-audit', stack.complianceAudit] as const,
      ['replication-monitor', stack.replicationMonitor] as const,
      ['latency-sampler', stack.latencySampler] as const,
      ['dr', stack.drTask.handler] as const,
    ];
    for (const [concern, handler] of handlers) {
      const fn = functions[logicalId(handler.function.node.defaultChild)];
      // The code asset is staged as asset.<hash>/ beside the templates; S3Key is <hash>.zip.
      const hash = String(fn?.Properties.Code.S3Key).replace(/\.zip$/, '');
      const assetDir = join(built.outdir, `asset.${hash}`);
      expect(readdirSync(assetDir)).toEqual(['index.mjs']);
      bundles.set(concern, join(assetDir, 'index.mjs'));
    }
  });

  it('are one ESM file per concern, background job and the DR task function, under 300 KiB', () => {
    expect([...bundles.keys()].sort()).toEqual(
      [
        ...CONCERNS,
        'health-probe',
        'failover',
        'privacy-sweeper',
        'compliance-audit',
        'replication-monitor',
        'latency-sampler',
        'dr',
      ].sort(),
    );
    for (const file of bundles.values()) {
      expect(statSync(file).size).toBeLessThan(300 * 1024);
      expect(readFileSync(file, 'utf8')).toMatch(/^import \{ createRequire as __cortexCreateRequire \}/);
    }
  });

  it('carry the topology validated at synth (define CORTEX_TOPOLOGY), not the schema', () => {
    for (const file of bundles.values()) {
      const code = readFileSync(file, 'utf8');
      expect(code).toContain(`name:"${topologyName}"`);
      expect(code).toContain('format:"cortex-topology/validated-v1"');
      expect(code).toContain('residency_countries');
      expect(code).not.toContain('group cycle');
    }
  });

  it('leave @aws-sdk/* to the Node.js 24 runtime instead of bundling it', () => {
    for (const file of bundles.values()) {
      const code = readFileSync(file, 'utf8');
      expect(code).toMatch(/from"@aws-sdk\/client-dynamodb"/);
      expect(code).not.toContain('DynamoDBServiceException');
    }
  });
});
