/**
 * cdk-nag 3 runs as a CDK policy-validation plugin: findings go to the cloud assembly's
 * validation-report.json (and fail synth), not to stack Annotations as in cdk-nag 2. So this reads
 * the report; acknowledgements are `Validations.of(construct).acknowledge` metadata on the tree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCortexApp, newApp } from './build.ts';

interface Finding {
  readonly rule: string;
  readonly path: string;
}

/** Synthesizes and returns every unacknowledged AwsSolutions finding (the report survives a failed synth). */
function awsSolutionsFindings(app: { synth(): unknown }, outdir: string): Finding[] {
  let synthError: unknown;
  try {
    app.synth();
  } catch (error) {
    synthError = error;
  }
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

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string; on: IConstruct }[] {
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

describe('cdk-nag AwsSolutions checks', () => {
  it('actually run: an unrotated KMS key is reported (guards against a silently missing plugin)', () => {
    const { app, outdir } = newApp();
    new kms.Key(new Stack(app, 'Probe', { env: { region: 'us-east-1' } }), 'Unrotated');
    expect(awsSolutionsFindings(app, outdir)).toContainEqual({
      rule: 'AwsSolutions-KMS5',
      path: 'Probe/Unrotated/Resource',
    });
  });

  describe('on the Cortex app', () => {
    let built: ReturnType<typeof buildCortexApp>;
    let findings: Finding[];

    beforeAll(() => {
      built = buildCortexApp();
      findings = awsSolutionsFindings(built.app, built.outdir);
    });

    it('report no unacknowledged error in any stack', () => {
      expect(findings).toEqual([]);
      expect(
        built.app.node.children
          .filter(Stack.isStack)
          .map((s) => s.stackName)
          .sort(),
      ).toEqual([
        'CortexRegion-ap-south-1',
        'CortexRegion-eu-west-1',
        'CortexRegion-us-east-1',
        'CortexState',
      ]);
    });

    it('acknowledge only specific findings on specific resources, each with a reason', () => {
      const acks = acknowledgements(built.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(Stack.isStack(ack.on), `${ack.id} acknowledged for a whole stack at ${ack.path}`).toBe(false);
        expect(ack.reason.length, `${ack.id} at ${ack.path} needs a reason`).toBeGreaterThanOrEqual(40);
      }
      // What is acknowledged, and where: X-Ray's Resource "*" on function roles, open health routes.
      // Acknowledged as cdk-nag's README shows (`AwsSolutions-IAM5[...]`); CDK stores it as `Annotation::...`.
      const kinds = new Set(
        acks.map((a) => `${a.id.replace(/^Annotation::/, '')} @ ${a.path.split('/').slice(1).join('/')}`),
      );
      expect([...kinds].sort()).toEqual(
        [
          'AwsSolutions-APIG4 @ Api/HttpApi/GET--api--v1--ping',
          'AwsSolutions-APIG4 @ Api/HttpApi/GET--health',
          'AwsSolutions-IAM5[Resource::*] @ HealthHandler/Role',
          'AwsSolutions-IAM5[Resource::*] @ RegionsHandler/Role',
          'AwsSolutions-IAM5[Resource::*] @ RouterHandler/Role',
        ].sort(),
      );
    });
  });
});
