/**
 * cdk-nag 3 runs as a CDK policy-validation plugin: findings go to the cloud assembly's
 * validation-report.json (and fail synth), not to stack Annotations as in cdk-nag 2. So the infra
 * tests read the report; acknowledgements are `Validations.of(construct).acknowledge` metadata.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { expect } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { PROBE_BUNDLE_PATH } from '../../lib/core/health/probe-bundle.ts';
import { BACKGROUND_JOBS } from '../../lib/infra/handler-function.ts';

export interface NagFinding {
  readonly rule: string;
  readonly path: string;
}

/** Synthesizes `app`; answers the error a synth with findings throws (undefined when it passed). */
export function synthesize(app: { synth(): unknown }): unknown {
  try {
    app.synth();
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * Every unacknowledged AwsSolutions finding of the synth that wrote `outdir` (the report survives a
 * failed synth). No report is a failure, the synth's error if it threw: a missing plugin must not
 * read as a clean app.
 */
export function reportedFindings(outdir: string, synthError?: unknown): NagFinding[] {
  const reportPath = join(outdir, 'validation-report.json');
  if (!existsSync(reportPath)) throw synthError ?? new Error('no validation report written');
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; severity: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  return report.pluginReports
    .filter((p) => p.pluginName === 'AwsSolutions')
    .flatMap((p) => p.violations)
    .filter((v) => v.severity === 'error')
    .flatMap((v) => v.violatingConstructs.map((c) => ({ rule: v.ruleName, path: c.constructPath })));
}

/** Synthesizes `app` and answers every unacknowledged AwsSolutions finding. */
export function awsSolutionsFindings(app: { synth(): unknown }, outdir: string): NagFinding[] {
  return reportedFindings(outdir, synthesize(app));
}

/** Every acknowledged rule under `root`: where, which rule, why, and on which construct. */
export function acknowledgements(
  root: IConstruct,
): { path: string; id: string; reason: string; on: IConstruct }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id,
          reason,
          on: construct,
        })),
      ),
  );
}

/** Every acknowledgement is on a resource (not a stack), has a reason, and is one of these kinds. */
export function expectAcknowledgedOnly(app: IConstruct, probePaths: readonly string[]): void {
  const acks = acknowledgements(app);
  expect(acks.length).toBeGreaterThan(0);
  for (const ack of acks) {
    expect(Stack.isStack(ack.on), `${ack.id} acknowledged for a whole stack at ${ack.path}`).toBe(false);
    expect(ack.reason.length, `${ack.id} at ${ack.path} needs a reason`).toBeGreaterThanOrEqual(40);
  }
  // What is acknowledged, and where. Acknowledged as cdk-nag's README shows
  // (`AwsSolutions-IAM5[...]`); CDK stores it as `Annotation::...`. Region ids folded to <region>.
  const kinds = new Set(
    acks.map(
      (a) =>
        `${a.id.replace(/^Annotation::/, '').replace(/[a-z]{2}-[a-z]+-\d/g, '<region>')} @ ${a.path.split('/').slice(1).join('/')}`,
    ),
  );
  expect([...kinds].sort()).toEqual(
    [
      // Open routes: Route 53 health checkers and liveness probes cannot sign requests.
      'AwsSolutions-APIG4 @ Api/HttpApi/GET--api--v1--ping',
      'AwsSolutions-APIG4 @ Api/HttpApi/GET--health',
      // X-Ray (and, for the workflow, log delivery) support no resource-level permissions.
      // (A region's background jobs are BackgroundJob constructs: `<Job>/Handler`; the witness's
      // probe is `HealthProbeHandler`.)
      ...[...CONCERNS, 'health-probe'].map(
        (name) => `AwsSolutions-IAM5[Resource::*] @ ${pascal(name)}Handler/Role`,
      ),
      ...BACKGROUND_JOBS.map((name) => `AwsSolutions-IAM5[Resource::*] @ ${pascal(name)}/Handler/Role`),
      'AwsSolutions-IAM5[Resource::*] @ Dr/Handler/Role',
      'AwsSolutions-IAM5[Resource::*] @ FailoverWorkflow/Role',
      'AwsSolutions-IAM5[Resource::*] @ DrWorkflows/Role',
      // AWS Backup's own policies for the nightly backups and restores of the tables.
      ...['AWSBackupServiceRolePolicyForBackup', 'AWSBackupServiceRolePolicyForRestores'].map(
        (policy) =>
          `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/${policy}] @ Backups/Role`,
      ),
      // Peer APIs' ids are unknown across regions: GET of the probed paths, any API id. The DR
      // function probes every region's API, its own included.
      ...[
        'HealthProbeHandler',
        'HealthProbe/Handler',
        'Failover/Handler',
        'LatencySampler/Handler',
        'Dr/Handler',
      ].flatMap((fn) =>
        // The region's and the witness's probes ask for whole rounds: the bundle too.
        [...(fn.startsWith('HealthProbe') ? [PROBE_BUNDLE_PATH] : []), ...probePaths].map(
          (path) =>
            `AwsSolutions-IAM5[Resource::arn:aws:execute-api:<region>:<AWS::AccountId>:*/*/GET${path}] @ ${fn}/Role`,
        ),
      ),
      // A start whose execution name is taken asks whether it still runs: the failover state
      // machine's executions, whose names are failover ids made at run time.
      ...['FailoversHandler', 'HealthProbe/Handler', 'Dr/Handler'].map(
        (fn) =>
          `AwsSolutions-IAM5[Resource::arn:aws:states:<region>:<AWS::AccountId>:execution:cortex-failover:*] @ ${fn}/Role`,
      ),
      // Other regions' table keys are known only by alias (the witness probe and the failover steps).
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ Failover/Handler/Role',
      // The DR function reads the failover target's handoffs and canary in its replica.
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ Dr/Handler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ HealthProbeHandler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ HealthProbe/Handler/Role',
      // The failovers API writes an operator's abort, approval or decline in the coordinator's replica.
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ FailoversHandler/Role',
      // The privacy API and sweeper erase a subject's records in every region's replica.
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ PrivacyHandler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ PrivacySweeper/Handler/Role',
      // The replication API and monitor read (and on reconcile repair) every region's replica.
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ ReplicationHandler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ ReplicationMonitor/Handler/Role',
      // The ops API and the daily report read every region's replication marks (the lag check).
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ OpsDaily/Handler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ OpsHandler/Role',
      'AwsSolutions-IAM5[Resource::arn:aws:kms:<region>:<AWS::AccountId>:key/*] @ RouterHandler/Role',
    ].sort(),
  );
}

export function stackNames(app: IConstruct): string[] {
  return app.node.children
    .filter(Stack.isStack)
    .map((s) => s.stackName)
    .sort();
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}
