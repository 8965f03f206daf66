import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

/**
 * One region's customer managed key for its replica of the state table, with a deterministic alias.
 *
 * Why an alias and why here: a global table replica must be encrypted with a key in the replica's
 * own region, and a CloudFormation stack can only create resources in its own region. So each
 * regional stack creates its region's key, and the state stack names the keys by alias ARN
 * (`arn:aws:kms:<region>:<account>:alias/<name>-state`), which DynamoDB accepts for
 * `KMSMasterKeyId`. That needs no cross-region reference (brittle: SSM-parameter custom resources),
 * only deploy order: the state stack depends on every regional stack.
 */
export interface StateTableKeyProps {
  /** `alias/<name>-state`; the same in every region (see DeploymentPlan.tableKeyAlias). */
  readonly aliasName: string;
}

export class StateTableKey extends Construct {
  /** Alias ARN of the table key in `region`, resolvable from a stack in any region of the account. */
  static aliasArn(scope: Construct, region: string, aliasName: string): string {
    return Stack.of(scope).formatArn({
      service: 'kms',
      region,
      resource: 'alias',
      resourceName: aliasName.slice('alias/'.length),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /**
   * The SSM parameter (in each region) holding the table key's ARN: what a stack in the same region
   * reads to name the key where an alias is refused (an AWS Backup vault's EncryptionKeyArn).
   */
  static arnParameterName(aliasName: string): string {
    return `/${aliasName.slice('alias/'.length)}/key-arn`;
  }

  readonly key: kms.Key;
  readonly alias: kms.Alias;

  constructor(scope: Construct, id: string, props: StateTableKeyProps) {
    super(scope, id);
    if (!/^alias\/[A-Za-z0-9/_-]+$/.test(props.aliasName) || props.aliasName.startsWith('alias/aws/')) {
      throw new Error(
        `StateTableKey: aliasName must look like alias/<name> (letters, digits, / _ -) and not alias/aws/..., got ${JSON.stringify(props.aliasName)}`,
      );
    }
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts this region's replica of the shared state table (${props.aliasName})`,
      enableKeyRotation: true,
      // Losing the key loses every item in this replica: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
    this.alias = this.key.addAlias(props.aliasName);
    new ssm.StringParameter(this, 'KeyArn', {
      parameterName: StateTableKey.arnParameterName(props.aliasName),
      stringValue: this.key.keyArn,
      description: `ARN of the key behind ${props.aliasName} (the backup vault's key)`,
    });
  }
}
