import { defineConfig } from 'vitest/config';

/**
 * Tests that run on the real clock: the local control plane end to end over HTTP (its wiring: real
 * servers, dynalite, the DNS server, processes killed and restarted) and the local stand-ins whose
 * job is wall-clock time (the scaled clock, the scheduler, the HTTP probe, replication lag, the DNS
 * health checks, aws-local-stepfunctions at speed). They run one file at a time: after everything
 * else in a plain `vitest run`; under `npm test` (scripts/test.ts) in a run of their own beside the
 * other projects' run, which is niced so that it does not starve them of the CPU. Everything else is
 * logic on the virtual clock or on no clock at all, and runs in parallel.
 */
const WALL_CLOCK = [
  'test/e2e/**/*.test.ts',
  'test/unit/local/**/*.test.ts',
  'test/unit/http-probe.test.ts',
  'test/integration/local-dns.test.ts',
  'test/integration/local-replication.test.ts',
  'test/integration/latency-sampler.test.ts',
  'test/statemachine/failover.test.ts',
  'test/contract/local-probe.test.ts',
  'test/contract/local-workflow.test.ts',
];

/** The CDK app's tests: they read synthesized templates and never change a shared build. */
const INFRA = ['test/infra/**/*.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores: on a 2-core machine, one.
    maxWorkers: 2,
    // The JSON report lets .ci/run print a plain "N passed, N failed" closing line. Set here rather
    // than in the reporter's options so `--outputFile.json=<file>` can move it (scripts/test.ts).
    reporters: ['default', 'json'],
    outputFile: { json: '.test-results.json' },
    projects: [
      {
        extends: true,
        test: {
          name: 'logic',
          include: ['test/**/*.test.ts'],
          exclude: [...WALL_CLOCK, ...INFRA],
          // One module cache per worker: importing the SDK, middy, zod and the app anew for each file
          // was half the CPU of the unit tests. Files share a process, so a test that changes the
          // process (environment, spies on globals) puts it back in afterAll or finally.
          isolate: false,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: INFRA,
          // One module cache per worker: aws-cdk-lib is imported, and the app synthesized, once per
          // worker rather than once per file (test/infra/build.ts shares builds by their options).
          isolate: false,
          // The first test of a worker to ask for an app synthesizes it (with cdk-nag): seconds, more
          // on a busy machine (bundling with esbuild, more). A synth that hangs still fails.
          testTimeout: 120_000,
          hookTimeout: 180_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'wall-clock',
          include: WALL_CLOCK,
          fileParallelism: false,
          maxWorkers: 1,
          // One process for the serial files: a fresh fork and its imports per file cost seconds each on a
          // busy machine, and no file here leaves anything behind (planes, servers and children are
          // stopped after each test).
          isolate: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
