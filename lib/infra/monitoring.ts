import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import {
  LATENCY_LINK_MESSAGE,
  METRIC_NAMESPACE,
  type MetricDimensions,
  type MetricName,
} from '../app/metrics.ts';
import { TopologyError } from '../core/errors.ts';
import type { MonitoringTargets } from '../core/topology/sections.ts';

/** `-c alarmEmail=<address>`: subscribes that address to every region's operators' topic. */
export const ALARM_EMAIL_CONTEXT = 'alarmEmail';

/**
 * The latency sampler's log group in every region of deployment `name`: the same name in each (log
 * groups are regional), so the dashboard in the first region queries each without a cross-region
 * reference.
 */
export function latencySamplerLogGroupName(name: string): string {
  return `/cortex/${name}/latency-sampler`;
}

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

/**
 * The latency sampler runs once a minute, three samples a link: five minutes hold fifteen samples of
 * a link for the dashboard's percentiles, and five of the folded figure for its alarm.
 */
const LATENCY_PERIOD = Duration.minutes(5);
/** The compliance audit runs once a day: a violation keeps its alarm up until the next audit. */
const AUDIT_PERIOD = Duration.days(1);

/**
 * The alarms of region `regionId`, at the topology's monitoring targets:
 * - any region's availability (the probe's view: the lowest of them) below the SLA over the
 *   measurement interval;
 * - the busiest peer's utilization at or above the warning and the critical threshold for three
 *   minutes (its peers' probes read a region's capacity, so this region watches its peers');
 * - the worst link from here with its p50, p95 or p99 (over the sampler's window of each link) above
 *   its target, in a five-minute period (the sampler folds the links: a percentile of merged links
 *   would be no link's, so each link's own percentile is compared, then the worst is published);
 * - the longest replication lag into this replica above the asynchronous target (the global table
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
  const here = { region: regionId };
  specs.push({
    id: 'Availability',
    metric: 'RegionAvailability',
    dimensions: here,
    statistic: 'Average',
    period: Duration.seconds(availability.measurement_interval_seconds),
    threshold: availability.sla,
    comparison: LESS_THAN_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: MISSING,
    description: `a region's availability below the ${availability.sla} % SLA, as ${regionId}'s probe sees it (${regionIds.join(', ')}; which one: /v1/regions)`,
  });
  for (const [level, threshold] of [
    ['Warning', utilization.warning_threshold],
    ['Critical', utilization.critical_threshold],
  ] as const) {
    specs.push({
      id: `Utilization${level}`,
      metric: 'RegionalUtilization',
      dimensions: here,
      statistic: 'Average',
      period: minute,
      threshold,
      comparison: GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: NOT_BREACHING,
      description: `the busiest of ${peers.join(', ')} at or above ${threshold} % utilization (${level.toLowerCase()}) for 3 minutes, as ${regionId}'s probe reads it`,
    });
  }
  // One alarm for every link and percentile: the sampler publishes the worst link's window percentile
  // as a share of its target, so it crosses 100 whenever one link's does (three alarms a link said
  // nothing more, at $0.10 a month each; the dashboard keeps a line per link).
  specs.push({
    id: 'LatencyOverTarget',
    metric: 'LatencyOverTarget',
    dimensions: here,
    statistic: 'Maximum',
    period: LATENCY_PERIOD,
    threshold: 100,
    comparison: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: NOT_BREACHING,
    description: `a link from ${regionId} (to ${peers.join(' or ')}) with its latency p50, p95 or p99 over its window above the ${latency.p50_target} / ${latency.p95_target} / ${latency.p99_target} ms target`,
  });
  specs.push({
    id: 'ReplicationLag',
    metric: 'ReplicationLag',
    dimensions: here,
    statistic: 'Maximum',
    period: minute,
    threshold: lag.asynchronous_target,
    comparison: GREATER_THAN_THRESHOLD,
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: NOT_BREACHING,
    description: `replication from ${peers.join(' or ')} into ${regionId} more than ${lag.asynchronous_target} s behind in 2 of 3 minutes`,
  });
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

/** A region's alarm name: deterministic, so the deployment's dashboard can name every region's alarms. */
function alarmName(name: string, regionId: string, specId: string): string {
  return `${name}-${regionId}-${specId}`;
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
 * A region's view of the spec's key metrics: the alarms of alarmSpecs (and, in the first region, the
 * deployment's dashboard),
 * each notifying the operators' topic on ALARM and on OK. CloudWatch publishes to the topic as a
 * service: the topic's policy and its key's policy allow it for this account's alarms only.
 */
export class Monitoring extends Construct {
  /** The deployment's one dashboard, in the topology's first region; undefined elsewhere. */
  readonly dashboard: cloudwatch.Dashboard | undefined;
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
        alarmName: alarmName(props.name, props.regionId, spec.id),
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

    // Dashboards are global to the account: one for the deployment, held by the topology's first
    // region, shows every region's figures (each widget's metrics name their region).
    this.dashboard =
      props.regionId === props.regionIds[0]
        ? new cloudwatch.Dashboard(this, 'Dashboard', {
            dashboardName: props.name,
            defaultInterval: Duration.hours(3),
            widgets: dashboardRows(this, props),
          })
        : undefined;
  }
}

/**
 * Rows of the deployment's dashboard: every region's alarms first, then health and capacity,
 * performance, failover and compliance, a line per region (or per link) in each graph.
 */
function dashboardRows(scope: Construct, props: MonitoringProps): cloudwatch.IWidget[][] {
  const { regionIds, targets } = props;
  const stack = Stack.of(scope);
  const minute = Duration.minutes(1);
  const latency = targets.performance.cross_region_latency;
  const lag = targets.performance.replication_lag;
  const utilization = targets.capacity.regional_utilization;
  const line = (value: number, label: string, color = cloudwatch.Color.RED) => ({ value, label, color });
  const graph = (title: string, left: cloudwatch.IMetric[], annotations: cloudwatch.HorizontalAnnotation[]) =>
    new cloudwatch.GraphWidget({ title, left, leftAnnotations: annotations, width: 12, height: 6 });
  const inRegion = (region: string, metric: cloudwatch.Metric) => metric.with({ region });
  const each = (name: MetricName, statistic: string, period: Duration, label: (region: string) => string) =>
    regionIds.map((region) =>
      inRegion(region, cortexMetric(name, { region }, statistic, period, label(region))),
    );
  // Alarm names are deterministic (alarmName): the widget names every region's.
  const alarms = regionIds.flatMap((region) =>
    alarmSpecs(region, regionIds, targets).map((spec) =>
      cloudwatch.Alarm.fromAlarmArn(
        scope,
        `Alarm-${region}-${spec.id}`,
        `arn:${stack.partition}:cloudwatch:${region}:${stack.account}:alarm:${alarmName(props.name, region, spec.id)}`,
      ),
    ),
  );
  return [
    [new cloudwatch.AlarmStatusWidget({ title: 'Alarms (every region)', alarms, width: 24, height: 6 })],
    [
      graph(
        "Lowest region availability (%, as each region's probe sees them)",
        each('RegionAvailability', 'Minimum', minute, (r) => `seen from ${r}`),
        [line(targets.health.region_availability.sla, 'SLA')],
      ),
      graph(
        "Busiest peer's utilization (%, as each region's probe reads it)",
        each('RegionalUtilization', 'Maximum', minute, (r) => `peers of ${r}`),
        [
          line(utilization.warning_threshold, 'warning', cloudwatch.Color.ORANGE),
          line(utilization.critical_threshold, 'critical'),
        ],
      ),
    ],
    [
      graph(
        'Longest replication lag into each replica (s)',
        each('ReplicationLag', 'Maximum', minute, (r) => `into ${r}`),
        [
          line(lag.synchronous_target, 'synchronous target', cloudwatch.Color.ORANGE),
          line(lag.asynchronous_target, 'asynchronous target'),
        ],
      ),
    ],
    // Each link's p50, p95 and p99 over its window, from the sampler's line for the link (Logs Insights
    // in the sampler's region): no custom metric a link.
    regionIds.flatMap((region) =>
      regionIds
        .filter((peer) => peer !== region)
        .map(
          (peer) =>
            new cloudwatch.LogQueryWidget({
              title: `Latency ${region} -> ${peer} (ms, p50 / p95 / p99; targets ${latency.p50_target} / ${latency.p95_target} / ${latency.p99_target})`,
              region,
              logGroupNames: [latencySamplerLogGroupName(props.name)],
              view: cloudwatch.LogQueryVisualizationType.LINE,
              queryLines: [
                'fields p50_ms, p95_ms, p99_ms',
                `filter message = '${LATENCY_LINK_MESSAGE}' and peer = '${peer}'`,
                'stats max(p50_ms) as p50, max(p95_ms) as p95, max(p99_ms) as p99 by bin(5m)',
              ],
              width: 8,
              height: 6,
            }),
        ),
    ),
    [
      graph(
        'Failover time (s, by coordinating region)',
        each('FailoverTime', 'Maximum', minute, (r) => r),
        [line(targets.performance.failover_time.rto_target, 'RTO')],
      ),
      graph(
        'Compliance audit (daily)',
        [
          ...each('ResidencyViolations', 'Sum', AUDIT_PERIOD, (r) => `residency violations ${r}`),
          ...each('AuditSuccessRate', 'Minimum', AUDIT_PERIOD, (r) => `audit success rate % ${r}`),
        ],
        [line(targets.compliance.audit_success_rate.target, 'audit target', cloudwatch.Color.GREEN)],
      ),
    ],
  ];
}
