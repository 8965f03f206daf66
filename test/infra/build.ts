/** Builds the Cortex CDK app in-process the way bin/app.ts does, for the infra tests. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, type Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll } from 'vitest';
import type { Topology } from '../../lib/core/topology/types.ts';
import { buildApp, type CortexStacks } from '../../lib/infra/app.ts';
import type { DnsOptions } from '../../lib/infra/dns-plan.ts';
import { DEFAULT_TOPOLOGY_PATH, loadTopologyFile } from '../../lib/topology/load.ts';

const CDK_JSON = new URL('../../cdk.json', import.meta.url);

/** The feature flags from cdk.json, so tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(CDK_JSON, 'utf8')).context;
}

export interface BuiltApp extends CortexStacks {
  readonly app: App;
  readonly outdir: string;
  readonly topology: Topology;
}

export interface BuildOptions {
  /** Stacks whose Lambda code esbuild bundles (`aws:cdk:bundling-stacks`). @default none: fast */
  readonly bundlingStacks?: readonly string[];
  /** Replace the shipped topology (a modified copy of it, for invalid-input tests). */
  readonly topology?: Topology;
  /** Route 53 context (`-c domain=... -c hostedZoneId=...`). @default none: DNS skipped */
  readonly dns?: DnsOptions;
}

export function defaultTopology(): { topology: Topology } {
  return { topology: loadTopologyFile(DEFAULT_TOPOLOGY_PATH) };
}

const outdirs: string[] = [];
// Registered on the importing test file's root suite: its cloud assemblies go when it ends.
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** New App with cdk.json's flags and the AWS Solutions checks, writing to a fresh temp directory. */
export function newApp(bundlingStacks: readonly string[] = []): { app: App; outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'cortex-infra-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [...bundlingStacks] },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, outdir };
}

export function buildCortexApp(options: BuildOptions = {}): BuiltApp {
  const loaded = defaultTopology();
  const topology = options.topology ?? loaded.topology;
  const { app, outdir } = newApp(options.bundlingStacks);
  const stacks = buildApp(app, topology, options.dns ? { dns: options.dns } : {});
  return { app, outdir, topology, ...stacks };
}

export function templateOf(stack: Stack): Template {
  return Template.fromStack(stack);
}

export function logicalId(element: unknown): string {
  const el = element as CfnElement;
  return el.stack.getLogicalId(el);
}
