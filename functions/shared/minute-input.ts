import * as z from 'zod/mini';
import type { MinuteCursor, MinuteStep } from '../../lib/app/minute-rounds.ts';

/**
 * What the region's minute driver (an Express state machine, lib/infra/minute-driver.ts) passes to a
 * job that beats faster than EventBridge Scheduler's minute: when the minute started, how long it may
 * run, and where its rounds stand. With it the job runs one round and says when the next one starts;
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
