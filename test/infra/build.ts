/** Builds the Cortex CDK app in-process the way bin/app.ts does, for the infra tests. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, type Stack, Stage, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll } from 'vitest';
import type { Topology } from '../../lib/core/topology/types.ts';
import { buildApp, type CortexStacks } from '../../lib/infra/app.ts';
import type { NetworkMode } from '../../lib/infra/deploy-options.ts';
import type { DnsOptions } from '../../lib/infra/dns-plan.ts';
import type { RegionalStack } from '../../lib/infra/regional-stack.ts';
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
  /** The network switch (`-c network=mesh`). @default none: no mesh */
  readonly network?: NetworkMode;
}

export function defaultTopology(): { topology: Topology } {
  return { topology: loadTopologyFile(DEFAULT_TOPOLOGY_PATH) };
}

const outdirs: string[] = [];
// The infra project runs its files in one module cache per worker (vitest.config.ts: isolate false),
// so the cloud assemblies go when the worker ends, not with the first file.
process.once('exit', () => {
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

/**
 * Apps already built in this worker, by their options: synthesizing the whole app (and its cdk-nag
 * checks) is most of an infra test's time, and the tests only read it, so the files of a worker share
 * one build per set of options.
 */
const builds = new Map<string, BuiltApp>();

export function buildCortexApp(options: BuildOptions = {}): BuiltApp {
  const key = JSON.stringify([
    options.bundlingStacks ?? [],
    options.dns ?? null,
    options.topology ?? null,
    options.network ?? 'none',
  ]);
  let built = builds.get(key);
  if (!built) {
    built = buildFresh(options);
    builds.set(key, built);
  }
  return built;
}

function buildFresh(options: BuildOptions): BuiltApp {
  const loaded = defaultTopology();
  const topology = options.topology ?? loaded.topology;
  const { app, outdir } = newApp(options.bundlingStacks);
  const stacks = buildApp(app, topology, {
    ...(options.dns ? { dns: options.dns } : {}),
    ...(options.network ? { network: options.network } : {}),
  });
  return { app, outdir, topology, ...stacks };
}

const templates = new WeakMap<Stack, Template>();

/** The stack's template (parsed once: the shared builds are read by many files). */
export function templateOf(stack: Stack): Template {
  let template = templates.get(stack);
  if (!template) {
    template = Template.fromStack(stack);
    templates.set(stack, template);
  }
  return template;
}

/**
 * The warnings the synth recorded for `stack`, read from the app's one synth: `Annotations.fromStack`
 * synthesizes the whole app again (cdk-nag and CloudFormation validation included) on every call.
 */
export function warningsOf(stack: Stack): string[] {
  const stage = Stage.of(stack);
  if (!stage) throw new Error(`${stack.node.path} is in no app`);
  return stage
    .synth()
    .getStackArtifact(stack.artifactId)
    .messages.filter((m) => m.level === 'warning')
    .map((m) => (typeof m.entry.data === 'string' ? m.entry.data : JSON.stringify(m.entry.data)));
}

export function logicalId(element: unknown): string {
  const el = element as CfnElement;
  return el.stack.getLogicalId(el);
}

/** An app built once for the calling suite, with every regional stack's template. */
export interface RegionalTemplates {
  /** The app (available from the suite's beforeAll on). */
  readonly built: BuiltApp;
  template(regionId: string): Template;
  /** Runs `fn` on every regional stack, in topology order, with its template. */
  each(fn: (stack: RegionalStack, template: Template) => void): void;
}

/** Builds the app (the shipped topology unless `options` say otherwise) in the suite's beforeAll. */
export function useRegionalTemplates(options: BuildOptions = {}): RegionalTemplates {
  let app: BuiltApp | undefined;
  const templates = new Map<string, Template>();
  beforeAll(() => {
    app = buildCortexApp(options);
    for (const stack of app.regionalStacks) templates.set(stack.regionId, templateOf(stack));
  });
  const built = (): BuiltApp => {
    if (!app) throw new Error('useRegionalTemplates: the app is built in beforeAll');
    return app;
  };
  return {
    get built() {
      return built();
    },
    template(regionId) {
      const template = templates.get(regionId);
      if (!template) throw new Error(`no regional stack for ${regionId}`);
      return template;
    },
    each(fn) {
      const stacks = built().regionalStacks;
      if (stacks.length !== built().topology.regions.length) throw new Error('a regional stack is missing');
      for (const stack of stacks) fn(stack, templates.get(stack.regionId) as Template);
    },
  };
}

/** The stacks of the shipped topology's app, by name in order (a variant adds its own to these). */
export const DEFAULT_STACK_NAMES: readonly string[] = [
  'CortexRegion-ap-south-1',
  'CortexRegion-eu-west-1',
  'CortexRegion-us-east-1',
  'CortexState',
  'CortexState-ap-south-1',
  'CortexState-eu-west-1',
  'CortexWitness-witness-us-west-2',
];
