import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

/**
 * Event types operators are told about (SNS): every `failover.*`, and the region-level verdicts
 * that need a human to look. Matched on the entry's `DetailType`, which carries the event's `type`
 * (ControlPlaneEvent.type); `Source` is not matched: only Cortex roles may put events on the bus.
 */
export const NOTIFIED_EVENTS = {
  prefixes: ['failover.'],
  // A data-subject request past its legal deadline needs a person.
  types: [
    'region.fenced',
    'region.declared_failed',
    'component.restart_requested',
    // Load, not failure, but an operator should know a region refuses work.
    'region.saturated',
    'privacy.request_overdue',
    // An operator's emergency shutdown and its restore: the spec notifies its emergency contacts.
    'region.emergency_shutdown',
    'region.restored',
  ],
} as const;

export interface ControlPlaneEventsProps {
  /** The region's bus name (`<name>-events`, the same in every region). */
  readonly eventBusName: string;
  /** @default NOTIFIED_EVENTS */
  readonly notified?: { readonly prefixes: readonly string[]; readonly types: readonly string[] };
  /**
   * The region's customer managed key, to encrypt the topic with instead of a key of its own (a key
   * costs a dollar a month per region); EventBridge may use it only through SNS. @default own key
   */
  readonly key?: kms.Key;
}

/**
 * A region's control-plane events: a custom EventBridge bus every Cortex function publishes to, and a
 * rule forwarding the events operators must see to an SNS topic (KMS-encrypted with its own rotating
 * key, publish over TLS only) through a role only this bus's rules may assume. Subscribe operators to `topic` (email, chat, paging) outside this stack.
 */
export class ControlPlaneEvents extends Construct {
  readonly bus: events.EventBus;
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
  readonly notifyRule: events.Rule;
  readonly notifyRole: iam.Role;

  constructor(scope: Construct, id: string, props: ControlPlaneEventsProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9._-]{1,256}$/.test(props.eventBusName) || props.eventBusName === 'default') {
      throw new Error(`ControlPlaneEvents: invalid custom bus name ${JSON.stringify(props.eventBusName)}`);
    }
    const notified = props.notified ?? NOTIFIED_EVENTS;
    if (notified.prefixes.length + notified.types.length === 0) {
      throw new Error('ControlPlaneEvents: no event types to notify');
    }

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.eventBusName,
      description: 'Cortex control-plane events: verdicts, fencing, failover steps',
    });
    // AWS managed SNS keys cannot be used by EventBridge (their key policy is fixed): our own key.
    this.topicKey =
      props.key ??
      new kms.Key(this, 'TopicKey', {
        description: `Encrypts the operator notifications of ${props.eventBusName}`,
        enableKeyRotation: true,
        removalPolicy: RemovalPolicy.DESTROY,
        pendingWindow: Duration.days(7),
      });
    this.topic = new sns.Topic(this, 'Notifications', {
      displayName: 'Cortex control-plane notifications',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.notifyRule = new events.Rule(this, 'NotifyOperators', {
      eventBus: this.bus,
      description: 'Failover progress, fencing, failed regions and restart requests -> operators',
      eventPattern: {
        detailType: events.Match.anyOf(
          ...notified.prefixes.map((p) => events.Match.prefix(p)),
          ...notified.types.map((t) => events.Match.exactString(t)),
        ),
      },
    });
    // EventBridge publishes through a role only this bus's rules may assume (a confused-deputy
    // guard), so neither the topic's nor the key's policy opens to the EventBridge service.
    const stack = Stack.of(this);
    this.notifyRole = new iam.Role(this, 'NotifyRole', {
      description: `EventBridge: publishes ${props.eventBusName}'s operator notifications, nothing else`,
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'events',
              resource: 'rule',
              resourceName: `${props.eventBusName}/*`,
            }),
          },
        },
      }),
    });
    // Exactly what publishing to this encrypted topic needs, named (the SnsTopic target's own grant
    // would add kms:GenerateDataKey*): the target gets a view of the role it cannot add to.
    this.notifyRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
    this.notifyRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [this.topicKey.keyArn],
        // A shared key encrypts the state table too: through SNS only.
        ...(props.key
          ? { conditions: { StringEquals: { 'kms:ViaService': `sns.${stack.region}.amazonaws.com` } } }
          : {}),
      }),
    );
    this.notifyRule.addTarget(
      new targets.SnsTopic(this.topic, { role: this.notifyRole.withoutPolicyUpdates() }),
    );
  }
}
