/**
 * cdk-nag AwsSolutions on the Cortex app: how it reads the findings is in ./nag.ts. The variants other
 * files build anyway are checked there, on the same synth: the two DNS variants in dns.test.ts, the
 * audit report buckets in privacy-compliance.test.ts (a whole app synth, nag included, costs seconds).
 */
import { Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONCERNS } from '../../lib/app/routes.ts';
import { PROBE_BUNDLE_PATH } from '../../lib/core/health/probe-bundle.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { BACKGROUND_JOBS } from '../../lib/infra/handler-function.ts';
import { usRegionSetTopologyJson } from '../fixtures/replication-topologies.ts';
import { buildCortexApp, newApp } from './build.ts';
import { acknowledgements, awsSolutionsFindings, type NagFinding } from './nag.ts';

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
      expect(stackNames(built.app)).toEqual([
        'CortexRegion-ap-south-1',
        'CortexRegion-eu-west-1',
        'CortexRegion-us-east-1',
        'CortexState',
        'CortexState-ap-south-1',
        'CortexState-eu-west-1',
        'CortexWitness-witness-us-west-2',
      ]);
    });

    it('acknowledge only specific findings on specific resources, each with a reason', () => {
      expectAcknowledgedOnly(built.app, built.topology.failover_policies.health_check.endpoints);
    });
  });

  describe('on the Cortex app with three regions in one MRSC region set (the cortex-critical table)', () => {
    it('report no unacknowledged error, and acknowledge nothing more than with the state table alone', () => {
      const built = buildCortexApp({ topology: validateTopology(usRegionSetTopologyJson()) });
      expect(built.placement.tables.map((t) => t.name)).toContain('cortex-critical');
      expect(awsSolutionsFindings(built.app, built.outdir)).toEqual([]);
      expect(stackNames(built.app)).toEqual([
        'CortexRegion-us-east-1',
        'CortexRegion-us-east-2',
        'CortexRegion-us-west-2',
        'CortexState',
        'CortexState-us-east-2',
        'CortexState-us-west-2',
        'CortexWitness-witness-ca-central-1',
      ]);
      // The MRSC replicas share each region's table key (and its alias): no new wildcard.
      expectAcknowledgedOnly(built.app, built.topology.failover_policies.health_check.endpoints);
    });
  });
});

/** Every acknowledgement is on a resource (not a stack), has a reason, and is one of these kinds. */
function expectAcknowledgedOnly(app: IConstruct, probePaths: readonly string[]): void {
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

function stackNames(app: IConstruct): string[] {
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
