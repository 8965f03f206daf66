/**
 * cdk-nag AwsSolutions on the Cortex app: how it reads the findings, and what may be acknowledged, is
 * in ./nag.ts. The variants other files build anyway are checked there, on the same synth: the MRSC
 * app in replication-tables.test.ts, the two DNS variants in dns.test.ts, the audit report buckets in
 * privacy-compliance.test.ts (a whole app synth, nag included, costs seconds).
 */
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCortexApp, DEFAULT_STACK_NAMES, newApp } from './build.ts';
import { awsSolutionsFindings, expectAcknowledgedOnly, type NagFinding, stackNames } from './nag.ts';

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
    let findings: NagFinding[];

    beforeAll(() => {
      built = buildCortexApp();
      findings = awsSolutionsFindings(built.app, built.outdir);
    });

    it('report no unacknowledged error in any stack', () => {
      expect(findings).toEqual([]);
      expect(stackNames(built.app)).toEqual(DEFAULT_STACK_NAMES);
    });

    it('acknowledge only specific findings on specific resources, each with a reason', () => {
      expectAcknowledgedOnly(built.app, built.topology.failover_policies.health_check.endpoints);
    });
  });
});
