import * as z from 'zod/mini';
import { ValidationError } from '../../lib/app/errors.ts';
import type { MinuteCursor, MinuteStep } from '../../lib/app/minute-rounds.ts';
import { parseWith, scheduledEvent } from './http.ts';
import { parseStrictJson } from './strict-json.ts';

/**
 * What the region's minute driver (lib/infra/minute-driver.ts: a queue of the minute's rounds, each
 * delayed to its second) passes to a job that beats faster than EventBridge Scheduler's minute: when
 * the minute started, how long it may run, and which round this is. With it the job runs one round and says when the next one starts;
 * without it (an operator's invocation) the job runs the whole minute as before.
 */
export const minuteInputSchema = z.strictObject({
  started_at: z.iso.datetime({ offset: true }),
  budget_ms: z.number().check(z.int(), z.minimum(1_000), z.maximum(900_000)),
  cursor: z.strictObject({
    started: z.number().check(z.int(), z.minimum(0), z.maximum(60)),
    failed: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(60))),
  }),
});

export type MinuteInput = z.infer<typeof minuteInputSchema>;

/** The driver's input as the use cases take it (a cursor of no rounds is the minute's first). */
export function minuteOptions(input: MinuteInput): {
  readonly startedAt: number;
  readonly budgetMs: number;
  readonly cursor: MinuteCursor | undefined;
} {
  return {
    startedAt: Date.parse(input.started_at),
    budgetMs: input.budget_ms,
    cursor: input.cursor.started === 0 ? undefined : input.cursor,
  };
}

/** What the driver reads back: the cursor, whether another round follows and when. */
export type MinuteOutput = MinuteStep;

/** What a job's queue delivers: one message (SQS event source mapping, batch size 1). */
export interface RoundMessageEvent {
  readonly Records: readonly { readonly eventSource: string; readonly body: string }[];
}

/**
 * The round a job's queue delivers (the minute driver puts each round's payload on it, one message
 * per invocation), or the event as it came (an operator's invocation, a schedule). A batch of other
 * than one message is refused: a job runs one round per invocation.
 */
export function roundMessage(event: unknown): unknown {
  const records = (event as { Records?: unknown } | null | undefined)?.Records;
  if (!Array.isArray(records) || !records.some((r) => r?.eventSource === 'aws:sqs')) return event;
  if (records.length !== 1) {
    throw new ValidationError('one round per invocation', [
      { field: 'Records', reason: `must hold one message, got ${records.length}` },
    ]);
  }
  try {
    return parseStrictJson(String(records[0].body));
  } catch (error) {
    throw new ValidationError('invalid round message', [
      {
        field: 'Records[0].body',
        reason: `must be JSON: ${error instanceof Error ? error.message : String(error)}`,
      },
    ]);
  }
}

/**
 * A minute job's input, however it came (the driver's queue message, a schedule's Input or Scheduled
 * Event, an operator's invocation), parsed strictly: a bad field is a ValidationError naming it.
 */
export function parseJobInput<S extends z.ZodMiniType>(schema: S, event: unknown, what: string): z.infer<S> {
  return parseWith(schema, scheduledEvent(roundMessage(event)), what, '(event)');
}

/** The part of a job's report that says how its minute went: why it stopped early, and the driver's next step. */
export function minuteOutcome(minute: { readonly stopped_early?: string; readonly step?: MinuteStep }): {
  readonly stopped_early?: string;
  readonly minute?: MinuteOutput;
} {
  return {
    ...(minute.stopped_early === undefined ? {} : { stopped_early: minute.stopped_early }),
    ...(minute.step === undefined ? {} : { minute: minute.step }),
  };
}
