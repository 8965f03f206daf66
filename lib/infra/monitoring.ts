import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, type MetricDimensions, type MetricName, pairDimension } from '../app/metrics.ts';
import { TopologyError } from '../core/errors.ts';
import type { MonitoringTargets } from '../core/topology/sections.ts';

/** `-c alarmEmail=<address>`: subscribes that address to every region's operators' topic. */
export const ALARM_EMAIL_CONTEXT = 'alarmEmail';

export interface MonitoringProps {
  /** The deployment's name (the topology's, with its generation): prefixes the dashboard and alarm names. */
  readonly name: string;
  /** The region this construct watches from. */
  readonly regionId: string;
  /** Every region of the topology, this one included (each region's availability is watched from here). */
  readonly regionIds: readonly string[];
  /** The topology's `monitoring` section: every threshold comes from it. */
  readonly targets: MonitoringTargets;
  /** The operators' topic (ControlPlaneEvents): every alarm notifies it, on ALARM and back to OK. */
  readonly topic: sns.Topic;
  /** The topic's customer managed key, which CloudWatch must be allowed to use to publish. */
  readonly topicKey: kms.IKey;
  /**
   * An address to subscribe to the topic (email, confirmed by its owner).
   * @default the `alarmEmail` context value, else none
   */
  readonly alarmEmail?: string;
}

/** One alarm as data: what it watches and when it fires (the tests and docs/monitoring.md read the same). */
export interface AlarmSpec {
  /** Construct id, also the end of the alarm's name. */
  readonly id: string;
  readonly metric: MetricName;
  readonly dimensions: MetricDimensions;
  /** CloudWatch statistic: Average, Maximum, Minimum, Sum or a percentile (p50, p95, p99). */
  readonly statistic: string;
  readonly period: Duration;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
  readonly description: string;
}

const { LESS_THAN_THRESHOLD, GREATER_THAN_THRESHOLD, GREATER_THAN_OR_EQUAL_TO_THRESHOLD } =
  cloudwatch.ComparisonOperator;
const { MISSING, NOT_BREACHING } = cloudwatch.TreatMissingData;

/** The latency sampler measures each pair a few times a minute: five minutes hold enough for a p99. */
const LATENCY_PERIOD = Duration.minutes(5);
/** The compliance audit runs once a day: a violation keeps its alarm up until the next audit. */
const AUDIT_PERIOD = Duration.days(1);

/**
 * The alarms of region `regionId`, at the topology's monitoring targets:
 * - each region's availability (the probe's view) below the SLA over the measurement interval;
 * - each peer's utilization at or above the warning and the critical threshold for three minutes
 *   (its peers' probes read a region's capacity, so this region watches its peers');
 * - each link's latency from here above the p50, p95 and p99 targets for two five-minute periods;
 * - each link's replication lag into this replica above the asynchronous target (the global table
 *   replicates asynchronously) in two of three minutes;
 * - a failover coordinated here that took longer than the RTO;
 * - residency violations above the target (0) and an audit success rate below its target (100),
 *   from the daily audit.
 * No data is no alarm: a job that does not run is not a breach of what it measures, and a new
 * deployment does not page before its first round.
 */
export function alarmSpecs(
  regionId: string,
  regionIds: readonly string[],
  targets: MonitoringTargets,
): AlarmSpec[] {
  const peers = regionIds.filter((r) => r !== regionId);
  const minute = Duration.minutes(1);
  const availability = targets.health.region_availability;
  const utilization = targets.capacity.regional_utilization;
  const latency = targets.performance.cross_region_latency;
  const lag = targets.performance.replication_lag;
  const specs: AlarmSpec[] = [];
  for (const region of regionIds) {
    specs.push({
      id: `Availability-${region}`,
      metric: 'RegionAvailability',
      dimensions: { region },
      statistic: 'Average',
      period: Duration.seconds(availability.measurement_interval_seconds),
      threshold: availability.sla,
      comparison: LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: MISSING,
      description: `${region} availability below the ${availability.sla} % SLA, as ${regionId}'s probe sees it`,
    });
  }
  for (const peer of peers) {
    for (const [level, threshold] of [
      ['Warning', utilization.warning_threshold],
      ['Critical', utilization.critical_threshold],
    ] as const) {
      specs.push({
        id: `Utilization${level}-${peer}`,
        metric: 'RegionalUtilization',
        dimensions: { region: peer },
        statistic: 'Average',
        period: minute,
        threshold,
        comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        treatMissingData: NOT_BREACHING,
        description: `${peer} utilization at or above ${threshold} % (${level.toLowerCase()}) for 3 minutes`,
      });
    }
  }
  for (const peer of peers) {
    const pair = pairDimension(regionId, peer);
    for (const [p, target] of [
      ['p50', latency.p50_target],
      ['p95', latency.p95_target],
      ['p99', latency.p99_target],
    ] as const) {
      specs.push({
        id: `Latency${p.toUpperCase()}-${peer}`,
        metric: 'CrossRegionLatency',
        dimensions: { region: regionId, pair },
        statistic: p,
        period: LATENCY_PERIOD,
        threshold: target,
        comparison: GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: NOT_BREACHING,
        description: `${pair} latency ${p} above ${target} ms for 10 minutes`,
      });
    }
  }
  for (const peer of peers) {
    const pair = pairDimension(peer, regionId);
    specs.push({
      id: `ReplicationLag-${peer}`,
      metric: 'ReplicationLag',
      dimensions: { region: regionId, pair },
      statistic: 'Maximum',
      period: minute,
      threshold: lag.asynchronous_target,
      comparison: GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: NOT_BREACHING,
      description: `replication ${pair} more than ${lag.asynchronous_target} s behind in 2 of 3 minutes`,
    });
  }
  specs.push(
    {
      id: 'FailoverTime',
      metric: 'FailoverTime',
      dimensions: { region: regionId },
      statistic: 'Maximum',
      period: minute,
      threshold: targets.performance.failover_time.rto_target,
      comparison: GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: NOT_BREACHING,
      description: `a failover coordinated by ${regionId} took longer than the ${targets.performance.failover_time.rto_target} s RTO`,
    },
    {
      id: 'ResidencyViolations',
      metric: 'ResidencyViolations',
      dimensions: { region: regionId },
      statistic: 'Sum',
      period: AUDIT_PERIOD,
      threshold: targets.compliance.data_residency_violations.target,
      comparison: GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: NOT_BREACHING,
      description: `the compliance audit of ${regionId} found data-residency violations (target ${targets.compliance.data_residency_violations.target})`,
    },
    {
      id: 'AuditSuccessRate',
      metric: 'AuditSuccessRate',
      dimensions: { region: regionId },
      statistic: 'Minimum',
      period: AUDIT_PERIOD,
      threshold: targets.compliance.audit_success_rate.target,
      comparison: LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: NOT_BREACHING,
      description: `the compliance audit of ${regionId} passed less than ${targets.compliance.audit_success_rate.target} % of its checks`,
    },
  );
  return specs;
}

/** A catalog metric as CloudWatch names it (lib/app/metrics.ts publishes exactly these dimensions). */
export function cortexMetric(
  name: MetricName,
  dimensions: MetricDimensions,
  statistic: string,
  period: Duration,
  label?: string,
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: name,
    dimensionsMap: { ...dimensions },
    statistic,
    period,
    ...(label === undefined ? {} : { label }),
  });
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * A region's view of the spec's key metrics: one CloudWatch dashboard and the alarms of alarmSpecs,
 * each notifying the operators' topic on ALARM and on OK. CloudWatch publishes to the topic as a
 * service: the topic's policy and its key's policy allow it for this account's alarms only.
 */
export class Monitoring extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** By AlarmSpec id. */
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly emailSubscription: sns.Subscription | undefined;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(props.name)) {
      throw new Error(`Monitoring: name ${JSON.stringify(props.name)} is not a dashboard name`);
    }
    if (!props.regionIds.includes(props.regionId)) {
      throw new Error(`Monitoring: regionId ${props.regionId} is not among regionIds`);
    }
    const email = props.alarmEmail ?? this.node.tryGetContext(ALARM_EMAIL_CONTEXT);
    if (email !== undefined && (typeof email !== 'string' || !EMAIL.test(email))) {
      throw new TopologyError([
        {
          field: `context ${ALARM_EMAIL_CONTEXT}`,
          reason: `must be an email address, got ${JSON.stringify(email)}`,
        },
      ]);
    }
    const stack = Stack.of(this);

    // CloudWatch alarm actions publish as the service, not through a role: allowed for this
    // account's alarms in this region only (aws:SourceArn, aws:SourceAccount: no confused deputy).
    const alarmArns = `arn:${stack.partition}:cloudwatch:${stack.region}:${stack.account}:alarm:*`;
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    props.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': alarmArns },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    props.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsUseTopicKey',
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );

    const notify = new actions.SnsAction(props.topic);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    for (const spec of alarmSpecs(props.regionId, props.regionIds, props.targets)) {
      const alarm = new cloudwatch.Alarm(this, spec.id, {
        alarmName: `${props.name}-${props.regionId}-${spec.id}`,
        alarmDescription: spec.description,
        metric: cortexMetric(spec.metric, spec.dimensions, spec.statistic, spec.period),
        threshold: spec.threshold,
        comparisonOperator: spec.comparison,
        evaluationPeriods: spec.evaluationPeriods,
        datapointsToAlarm: spec.datapointsToAlarm,
        treatMissingData: spec.treatMissingData,
      });
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      alarms[spec.id] = alarm;
    }
    this.alarms = alarms;

    this.emailSubscription =
      typeof email === 'string'
        ? new sns.Subscription(this, 'AlarmEmail', {
            topic: props.topic,
            protocol: sns.SubscriptionProtocol.EMAIL,
            endpoint: email,
          })
        : undefined;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.name}-${props.regionId}`,
      defaultInterval: Duration.hours(3),
      widgets: dashboardRows(props, Object.values(alarms)),
    });
  }
}

/** Rows of the dashboard: alarms first, then health and capacity, performance, failover and compliance. */
function dashboardRows(props: MonitoringProps, alarms: readonly cloudwatch.Alarm[]): cloudwatch.IWidget[][] {
  const { regionId, regionIds, targets } = props;
  const peers = regionIds.filter((r) => r !== regionId);
  const minute = Duration.minutes(1);
  const latency = targets.performance.cross_region_latency;
  const lag = targets.performance.replication_lag;
  const utilization = targets.capacity.regional_utilization;
  const line = (value: number, label: string, color = cloudwatch.Color.RED) => ({ value, label, color });
  const graph = (title: string, left: cloudwatch.IMetric[], annotations: cloudwatch.HorizontalAnnotation[]) =>
    new cloudwatch.GraphWidget({ title, left, leftAnnotations: annotations, width: 12, height: 6 });
  return [
    [
      new cloudwatch.AlarmStatusWidget({
        title: `Alarms (${regionId})`,
        alarms: [...alarms],
        width: 24,
        height: 4,
      }),
    ],
    [
      graph(
        "Region availability (%, this region's probe)",
        regionIds.map((region) => cortexMetric('RegionAvailability', { region }, 'Average', minute, region)),
        [line(targets.health.region_availability.sla, 'SLA')],
      ),
      graph(
        "Regional utilization (%, read by the peers' probes)",
        peers.map((region) => cortexMetric('RegionalUtilization', { region }, 'Average', minute, region)),
        [
          line(utilization.warning_threshold, 'warning', cloudwatch.Color.ORANGE),
          line(utilization.critical_threshold, 'critical'),
        ],
      ),
    ],
    [
      graph(
        'Cross-region latency from here (ms)',
        peers.flatMap((peer) =>
          (['p50', 'p95', 'p99'] as const).map((p) =>
            cortexMetric(
              'CrossRegionLatency',
              { region: regionId, pair: pairDimension(regionId, peer) },
              p,
              LATENCY_PERIOD,
              `${peer} ${p}`,
            ),
          ),
        ),
        [
          line(latency.p50_target, 'p50 target', cloudwatch.Color.GREEN),
          line(latency.p95_target, 'p95 target', cloudwatch.Color.ORANGE),
          line(latency.p99_target, 'p99 target'),
        ],
      ),
      graph(
        'Replication lag into this replica (s)',
        peers.map((peer) =>
          cortexMetric(
            'ReplicationLag',
            { region: regionId, pair: pairDimension(peer, regionId) },
            'Maximum',
            minute,
            `from ${peer}`,
          ),
        ),
        [
          line(lag.synchronous_target, 'synchronous target', cloudwatch.Color.ORANGE),
          line(lag.asynchronous_target, 'asynchronous target'),
        ],
      ),
    ],
    [
      graph(
        'Failover time (s, failovers coordinated here)',
        [cortexMetric('FailoverTime', { region: regionId }, 'Maximum', minute, 'failover')],
        [line(targets.performance.failover_time.rto_target, 'RTO')],
      ),
      graph(
        'Compliance audit (daily)',
        [
          cortexMetric(
            'ResidencyViolations',
            { region: regionId },
            'Sum',
            AUDIT_PERIOD,
            'residency violations',
          ),
          cortexMetric(
            'AuditSuccessRate',
            { region: regionId },
            'Minimum',
            AUDIT_PERIOD,
            'audit success rate %',
          ),
        ],
        [line(targets.compliance.audit_success_rate.target, 'audit target', cloudwatch.Color.GREEN)],
      ),
    ],
  ];
}
