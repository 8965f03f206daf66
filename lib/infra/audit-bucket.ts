import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { patternMatches, recordPath, retentionFor } from '../core/compliance/retention.ts';
import type { Topology } from '../core/topology/types.ts';
import { acknowledgeWildcardResources } from './nag.ts';

/** How long the audit reports are kept, and whether they must be immutable meanwhile. */
export interface AuditRetention {
  readonly days: number;
  /** Object Lock in COMPLIANCE mode for `days`: nobody, root included, deletes or overwrites a report. */
  readonly immutable: boolean;
  /** What sets it (the topology's policy, or the evidence default). */
  readonly source: string;
}

/**
 * The audit reports' retention from the topology, as the audit itself applies it to the reports it
 * keeps in the state table (lib/core/compliance/retention.ts): the shortest selective replication
 * policy matching `coordination/compliance/audits/*` (the spec's `compliance_data_replication`:
 * 2555 days, immutable), else the evidence default. Immutable when the matching policy says so.
 */
export function auditRetention(topology: Topology): AuditRetention {
  const sample = { kind: 'compliance_audit', id: 'audit', region: '', created_at: '' } as const;
  const rule = retentionFor(topology, sample);
  const path = recordPath(sample);
  const immutable = topology.replication_strategies.selective.policies.some(
    (p) => p.retention_days === rule.days && p.immutable === true && patternMatches(p.data_pattern, path),
  );
  return { days: rule.days, immutable, source: rule.source };
}

export interface AuditBucketProps {
  readonly retention: AuditRetention;
  /** How long the bucket's own S3 server access logs are kept. @default 400 days */
  readonly accessLogRetention?: Duration;
}

/**
 * A region's bucket for the compliance audit's reports, in the region (and so the jurisdiction) the
 * audit ran in: encrypted with its own rotating KMS key, versioned, no public access, TLS only,
 * server access logs to a second bucket, and kept exactly as long as the retention says: Object
 * Lock (COMPLIANCE) for immutable reports, then expired by lifecycle (storage limitation). Both the
 * bucket and its key outlive the stack: the reports are evidence.
 */
export class AuditBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly key: kms.Key;
  readonly accessLogs: s3.Bucket;
  readonly retention: AuditRetention;

  constructor(scope: Construct, id: string, props: AuditBucketProps) {
    super(scope, id);
    const { retention } = props;
    if (!Number.isInteger(retention.days) || retention.days < 1 || retention.days > 36_500) {
      throw new Error(
        `AuditBucket: retention days must be an integer from 1 to 36500, got ${retention.days}`,
      );
    }
    this.retention = retention;
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the compliance audit reports in ${Stack.of(this).region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: props.accessLogRetention ?? Duration.days(400) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server access log bucket of the audit bucket; logging it into itself would loop, and another log bucket would only move the finding.',
    });
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'audit-bucket/',
      ...(retention.immutable
        ? {
            objectLockEnabled: true,
            objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retention.days)),
          }
        : {}),
      lifecycleRules: [
        {
          // Storage limitation: a report goes once its retention has passed (the lock ends then too).
          expiration: Duration.days(retention.days),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Lets `grantee` add reports and nothing else: s3:PutObject on the bucket's objects (no read, list,
   * delete or retention change) and the key's GenerateDataKey only through S3 in this region.
   */
  grantPutReports(grantee: iam.IGrantable): void {
    const objects = this.bucket.arnForObjects('*');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [objects] }),
    );
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey'],
        resources: [this.key.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    if (grantee instanceof Construct) {
      acknowledgeWildcardResources(
        grantee,
        [objects],
        'Report keys are chosen per audit run (one object per report); the grant is s3:PutObject only, on this one bucket, whose Object Lock and lifecycle the writer cannot change.',
      );
    }
  }
}
