import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AvailabilityLedger,
  type AvailabilitySample,
  type MinuteState,
  withSample,
} from '../../core/health/availability.ts';
import type { AvailabilityPort } from '../../ports.ts';
import { queryAll } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoAvailabilityOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Availability samples in the state table (layout: state-keys.ts): a ring of one slot per minute of
 * the day per observer, so the samples of more than a day ago are overwritten, never accumulated; and
 * beside it the observer's ledger (lib/core/health/availability.ts), rolled up as each sample is
 * written, which is what `GET /v1/regions` reads: one item of a few hundred bytes (each region's day
 * stored as runs, `u1437x3`) instead of a Query of 1,440 items (about 216 KB).
 */
export class DynamoAvailabilityAdapter implements AvailabilityPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoAvailabilityOptions) {
    if (!options.tableName) throw new Error('DynamoAvailabilityAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async recordSample(sample: AvailabilitySample): Promise<void> {
    // Unconditional: only the observer writes its partition, one sample a minute.
    await this.#putSample(sample);
    // Read, add, write back only if nobody wrote in between (a retried round of the same observer):
    // the loser reads the winner's ledger and adds its sample to it.
    for (let attempt = 1; ; attempt += 1) {
      const current = await this.#ledger(sample.observer, true);
      const next = withSample(current?.ledger, sample);
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: {
              ...keys.availabilityLedger(sample.observer),
              record_type: 'availability_ledger',
              observer: next.observer,
              last_minute: next.last_minute,
              regions: encodeRegions(next.regions),
              version: (current?.version ?? 0) + 1,
            },
            ...(current?.version === undefined
              ? {
                  ConditionExpression: 'attribute_not_exists(#pk)',
                  ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
                }
              : {
                  ConditionExpression: '#version = :version',
                  ExpressionAttributeNames: { '#version': 'version' },
                  ExpressionAttributeValues: { ':version': current.version },
                }),
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException) || attempt >= 3) throw error;
      }
    }
  }

  async readLedger(observer: string): Promise<AvailabilityLedger | undefined> {
    return (await this.#ledger(observer, false))?.ledger;
  }

  /**
   * The observer's ledger item and its version; without one (nothing recorded since the ledger was
   * added), the ledger its ring of samples makes, read once: the first sample written then stores it.
   */
  async #ledger(
    observer: string,
    consistent: boolean,
  ): Promise<{ ledger: AvailabilityLedger | undefined; version?: number } | undefined> {
    const { Item: item } = await this.#client.send(
      new GetCommand({
        TableName: this.#table,
        Key: keys.availabilityLedger(observer),
        ConsistentRead: consistent,
      }),
    );
    if (item) {
      return {
        ledger: {
          observer,
          last_minute: Number(item.last_minute),
          regions: decodeRegions((item.regions ?? {}) as Record<string, string>),
        },
        version: Number(item.version),
      };
    }
    const samples = await this.listSamples(observer, 0);
    if (samples.length === 0) return undefined;
    return { ledger: samples.reduce<AvailabilityLedger | undefined>((l, s) => withSample(l, s), undefined) };
  }

  async #putSample(sample: AvailabilitySample): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...keys.availabilitySample(sample.observer, sample.minute),
          record_type: 'availability',
          observer: sample.observer,
          minute: sample.minute,
          regions: sample.regions,
        },
      }),
    );
  }

  /** The observer's samples this replica's ring holds from minute `since` (epoch ms) on, oldest first. */
  async listSamples(observer: string, since: number): Promise<AvailabilitySample[]> {
    // The ring has no time order in its keys: read it whole (at most 1,440 small items).
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.availabilityPartition(observer) },
    });
    return items
      .map((item) => ({
        observer: String(item.observer),
        minute: Number(item.minute),
        regions: (item.regions ?? {}) as Record<string, MinuteState>,
      }))
      .filter((s) => s.minute >= since)
      .sort((a, b) => a.minute - b.minute);
  }
}

/** `uuuux..u` -> `u4x1.2u1`: a region's day is mostly one state, so a few bytes instead of 1,440. */
function encodeRegions(regions: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, line] of Object.entries(regions)) {
    out[id] = line.replace(/(.)\1*/g, (run, c: string) => `${c}${run.length}`);
  }
  return out;
}

function decodeRegions(stored: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, runs] of Object.entries(stored)) {
    out[id] = runs.replace(/([ux.n])(\d+)/g, (_, c: string, n: string) => c.repeat(Number(n)));
  }
  return out;
}
