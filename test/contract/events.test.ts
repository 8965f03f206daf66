import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsCommandOutput,
} from '@aws-sdk/client-eventbridge';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { EVENT_SOURCE, EventBridgeEvents } from '../../lib/adapters/aws/eventbridge.ts';
import { LocalEventLog } from '../../lib/adapters/local/events.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { event, eventsContract } from './events.contract.ts';

interface Captured {
  readonly command: PutEventsCommand;
  /** The JSON body the SDK serialized: proof the input has the shape the API takes. */
  readonly body: { Entries: Record<string, unknown>[] };
}

/**
 * A real EventBridgeClient whose middleware answers before anything leaves the process: commands are
 * captured after the SDK serialized them, and the answer is whatever `answer` says.
 */
function stubClient(answer: (input: PutEventsCommandInput) => Partial<PutEventsCommandOutput> | Error) {
  const client = new EventBridgeClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const captured: Captured[] = [];
  const send = client.send.bind(client);
  const commands: PutEventsCommand[] = [];
  client.send = ((command: PutEventsCommand) => {
    commands.push(command);
    return send(command);
  }) as typeof client.send;
  client.middlewareStack.add(
    () => async (args) => {
      const request = args.request as { body?: string | Uint8Array };
      const command = commands.shift() as PutEventsCommand;
      captured.push({ command, body: JSON.parse(bodyText(request.body)) });
      const result = answer(args.input as PutEventsCommandInput);
      if (result instanceof Error) throw result;
      return { output: { $metadata: {}, ...result }, response: {} };
    },
    { step: 'build', name: 'captureForTest' },
  );
  return { client, captured };
}

function toEvents(captured: readonly Captured[]): ControlPlaneEvent[] {
  return captured.flatMap(({ command }) =>
    (command.input.Entries ?? []).map((entry) => {
      const { source_region, time, ...detail } = JSON.parse(entry.Detail ?? '{}');
      return { type: entry.DetailType ?? '', source_region, time, detail };
    }),
  );
}

eventsContract('LocalEventLog', async () => {
  let broken = false;
  const events = new LocalEventLog({
    listener: () => {
      if (broken) throw new Error('listener failed');
    },
  });
  return {
    events,
    delivered: async () => events.list().map((e) => e.event),
    breakDelivery: () => {
      broken = true;
    },
  };
});

eventsContract('EventBridgeEvents', async () => {
  let broken = false;
  const { client, captured } = stubClient((input) =>
    broken
      ? new Error('ThrottlingException')
      : { FailedEntryCount: 0, Entries: (input.Entries ?? []).map(() => ({ EventId: 'id' })) },
  );
  const events = new EventBridgeEvents({ client, eventBusName: 'cortex-events', log: () => undefined });
  return {
    events,
    delivered: async () => toEvents(captured),
    breakDelivery: () => {
      broken = true;
    },
  };
});

describe('EventBridgeEvents sends what PutEvents takes', () => {
  it('puts at most 10 entries per call, Source cortex.control-plane, DetailType the event type', async () => {
    const { client, captured } = stubClient(() => ({ FailedEntryCount: 0, Entries: [] }));
    const events = new EventBridgeEvents({ client, eventBusName: 'cortex-events' });
    await events.publish(
      Array.from({ length: 12 }, (_, i) => event(i === 0 ? 'failover.started' : 'failover.step', i)),
    );

    expect(captured.map((c) => c.command.input.Entries?.length)).toEqual([10, 2]);
    const first = captured[0]?.command;
    expect(first).toBeInstanceOf(PutEventsCommand);
    expectTypeOf(first?.input).toEqualTypeOf<PutEventsCommandInput | undefined>();
    const entry = captured[0]?.body.Entries[0] ?? {};
    expect(entry).toMatchObject({
      EventBusName: 'cortex-events',
      Source: EVENT_SOURCE,
      DetailType: 'failover.started',
    });
    expect(typeof entry.Time).toBe('number');
    expect(JSON.parse(String(entry.Detail))).toEqual({
      failover_id: 'failover-us-east-1-e0',
      i: 0,
      source_region: 'eu-west-1',
      time: '2026-11-26T12:00:00.000Z',
    });
    for (const { body } of captured) {
      for (const e of body.Entries) {
        expect(String(e.DetailType).length).toBeLessThanOrEqual(128);
        expect(Buffer.byteLength(JSON.stringify(e))).toBeLessThan(256 * 1024);
      }
    }
  });

  it('logs entries EventBridge rejected, and calls that failed, without throwing', async () => {
    const lines: { message: string; detail: Record<string, unknown> }[] = [];
    const { client } = stubClient(() => ({
      FailedEntryCount: 1,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }],
    }));
    const events = new EventBridgeEvents({
      client,
      eventBusName: 'cortex-events',
      log: (message, detail) => lines.push({ message, detail }),
    });
    await events.publish([event('region.failed'), event('region.promoted')]);
    expect(lines).toEqual([
      {
        message: 'some events were not delivered to EventBridge',
        detail: {
          bus: 'cortex-events',
          failed: [{ type: 'region.promoted', code: 'InternalFailure', message: 'try again' }],
        },
      },
    ]);
  });
});

describe('LocalEventLog', () => {
  it('keeps the newest events up to its capacity, with indexes that keep counting', async () => {
    const log = new LocalEventLog({ capacity: 3 });
    await log.publish([event('a'), event('b'), event('c'), event('d')]);
    expect(log.list().map((e) => [e.index, e.event.type])).toEqual([
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ]);
    expect(log.list(3).map((e) => e.event.type)).toEqual(['d']);
    expect(log.nextIndex).toBe(4);
    expect(() => new LocalEventLog({ capacity: 0 })).toThrow(/capacity/);
  });
});

function bodyText(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '{}';
  return typeof body === 'string' ? body : new TextDecoder().decode(body);
}
