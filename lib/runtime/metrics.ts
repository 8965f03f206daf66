/**
 * The metrics publisher on Lambda: the catalog's points (lib/app/metrics.ts) as CloudWatch embedded
 * metric format through Powertools Metrics. EMF is a log line on stdout that CloudWatch Logs turns
 * into metrics: no PutMetricData call, no IAM permission, no latency on the invocation.
 * The local plane has no publisher (its figures are in the dashboard and the event log).
 */
import { Metrics, type MetricUnit } from '@aws-lambda-powertools/metrics';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

import { METRIC_NAMESPACE, METRICS, type MetricPoint, type MetricsPublisher } from '../app/metrics.ts';

/** Powertools keeps at most 100 values of one metric in one EMF record. */
const MAX_VALUES = 100;

interface EmfPublisherOptions {
  /** Where a point that could not be published is reported; default standard error. */
  readonly warn?: (message: string, error: unknown) => void;
}

/**
 * Publishes each dimension set as one EMF record (a record has one set of dimensions), with every
 * value of a metric in it (CloudWatch computes percentiles from them). Powertools' default `service`
 * dimension is dropped: the alarms name exactly `region` (and `pair`).
 */
export function emfPublisher(options: EmfPublisherOptions = {}): MetricsPublisher {
  const warn =
    options.warn ??
    ((message: string, error: unknown) =>
      process.stderr.write(`${JSON.stringify({ level: 'WARN', message, error: String(error) })}\n`));
  let metrics: Metrics | undefined;
  return {
    publish(points) {
      if (points.length === 0) return;
      try {
        metrics ??= new Metrics({ namespace: METRIC_NAMESPACE });
        metrics.clearDefaultDimensions();
        for (const batch of batches(points)) {
          const { region, pair } = batch.dimensions;
          metrics.addDimensions(pair === undefined ? { region } : { region, pair });
          for (const point of batch.points) {
            metrics.addMetric(point.name, METRICS[point.name].unit as Unit, point.value);
          }
          metrics.publishStoredMetrics();
        }
      } catch (error) {
        metrics?.clearMetrics();
        metrics?.clearDimensions();
        warn('metrics not published', error);
      }
    },
  };
}

interface Batch {
  readonly dimensions: MetricPoint['dimensions'];
  readonly points: MetricPoint[];
}

/** Points grouped by dimension set, at most MAX_VALUES values of a metric per group. */
function batches(points: readonly MetricPoint[]): Batch[] {
  const groups = new Map<string, Batch[]>();
  for (const point of points) {
    const key = JSON.stringify([point.dimensions.region, point.dimensions.pair ?? null]);
    let list = groups.get(key);
    if (!list) {
      list = [];
      groups.set(key, list);
    }
    let batch = list.find((b) => b.points.filter((p) => p.name === point.name).length < MAX_VALUES);
    if (!batch) {
      batch = { dimensions: point.dimensions, points: [] };
      list.push(batch);
    }
    batch.points.push(point);
  }
  return [...groups.values()].flat();
}
