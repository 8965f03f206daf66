/**
 * cdk-nag 3 runs as a CDK policy-validation plugin: findings go to the cloud assembly's
 * validation-report.json (and fail synth), not to stack Annotations as in cdk-nag 2. So the infra
 * tests read the report; acknowledgements are `Validations.of(construct).acknowledge` metadata.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

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
