import { ANY, BACKWARDS, END, EventStoreDBClient, NO_STREAM, STREAM_EXISTS, UnavailableError, WrongExpectedVersionError, binaryEvent, type AllStreamResolvedEvent } from '@eventstore/db-client';
import { PassThrough } from 'node:stream';
import {
  BufferedEvents,
  EsdbEventStore,
  asUnavailable,
  eventStoreUnavailable,
  newestOwnPosition,
  withinDeadline,
  fromEsdbCurrentRevision,
  fromEsdbEvent,
  fromEsdbPosition,
  isKnownPosition,
  isSystemEvent,
  matchesFilter,
  pinnedRevision,
  subscriptionFilter,
  toEsdbEventData,
  toEsdbExpectedRevision,
  toEsdbPosition,
  toWrongExpectedRevisionError,
} from '../../src/infrastructure/event-store/esdb.event-store.js';
import { chainedMetadata } from '../../src/infrastructure/event-store/append-rules.js';
import { WrongExpectedRevisionError, type EventStore } from '../../src/ports/event-store.port.js';
import { eventHash } from '../../src/kernel/hash-chain.js';
import { comparePositions } from '../../src/kernel/position.js';
import { eventStoreContract, newEvent } from './event-store.contract.js';

const connectionString = process.env['EVENTSTORE_CONNECTION_STRING'];
const SKIP_REASON = 'EVENTSTORE_CONNECTION_STRING not set: start docker compose to run against EventStoreDB';
const FAST = { retry: { initialMs: 10, maxMs: 200 } } as const;

if (connectionString) {
  eventStoreContract('EventStoreDB', async () => {
    let store: EventStore = EsdbEventStore.fromConnectionString(connectionString, FAST);
    return {
      get store() {
        return store;
      },
      async reopen() {
        await store.close();
        store = EsdbEventStore.fromConnectionString(connectionString, FAST);
        return store;
      },
      async dispose() {
        await store.close();
      },
    };
  });

  describe('EventStoreDB specifics (live server)', () => {
    it('reports as head the newest JSON event, not a foreign binary event written after it', async () => {
      const client = EventStoreDBClient.connectionString(connectionString);
      const store = EsdbEventStore.fromConnectionString(connectionString, FAST);
      try {
        const ours = await store.append(`head-${Date.now()}`, [newEvent('Ours')], 'no_stream');
        await client.appendToStream(`foreign-${Date.now()}`, binaryEvent({ type: 'ForeignBinary', data: new Uint8Array([0, 159, 146, 150]) }));
        const [newest] = await collectAll(client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }));

        const head = await store.headPosition();

        expect(newest?.event?.isJson).toBe(false);
        expect(comparePositions(head!, ours.position)).toBeGreaterThanOrEqual(0);
        expect(comparePositions(head!, fromEsdbPosition(newest!.event!.position))).toBeLessThan(0);
      } finally {
        await store.close();
        await client.dispose();
      }
    });
  });
} else {
  console.warn(`EventStoreDB contract skipped: ${SKIP_REASON}`);
  describe.skip(`EventStore contract: EventStoreDB (skipped: ${SKIP_REASON})`, () => {
    it('passes the shared event store contract against a live server', () => undefined);
  });
}

describe('EventStoreDB adapter mappings', () => {
  describe('expected revision', () => {
    it('maps the port expectations to the client constants and bigint revisions', () => {
      expect(toEsdbExpectedRevision('no_stream')).toBe(NO_STREAM);
      expect(toEsdbExpectedRevision('stream_exists')).toBe(STREAM_EXISTS);
      expect(toEsdbExpectedRevision('any')).toBe(ANY);
      expect(toEsdbExpectedRevision(0)).toBe(0n);
      expect(toEsdbExpectedRevision(41)).toBe(41n);
    });

    it('pins an append to the revision read, or to no stream when there was none', () => {
      expect(pinnedRevision(-1)).toBe(NO_STREAM);
      expect(pinnedRevision(0)).toBe(0n);
      expect(pinnedRevision(7)).toBe(7n);
    });

    it('maps the server current revision back to a number or no_stream', () => {
      expect(fromEsdbCurrentRevision(NO_STREAM)).toBe('no_stream');
      expect(fromEsdbCurrentRevision(0n)).toBe(0);
      expect(fromEsdbCurrentRevision(12n)).toBe(12);
    });
  });

  describe('errors', () => {
    it('turns WrongExpectedVersionError into the port conflict with the caller expectation and actual revision', () => {
      const serverError = new WrongExpectedVersionError(undefined, { streamName: 'user-1', expected: 1n, current: 3n });

      const conflict = toWrongExpectedRevisionError(serverError, 1);

      expect(conflict).toBeInstanceOf(WrongExpectedRevisionError);
      expect(conflict).toMatchObject({ stream: 'user-1', expected: 1, actual: 3 });
      expect(conflict.message).toBe('stream user-1: expected revision 1, actual 3');
    });

    it('reports actual no_stream when the stream does not exist', () => {
      const serverError = new WrongExpectedVersionError(undefined, {
        streamName: 'user-2',
        expected: STREAM_EXISTS,
        current: NO_STREAM,
      });

      expect(toWrongExpectedRevisionError(serverError, 'stream_exists')).toMatchObject({
        stream: 'user-2',
        expected: 'stream_exists',
        actual: 'no_stream',
      });
    });
  });

  describe('positions', () => {
    it('formats commit/prepare as strings that survive JSON and keep their order', () => {
      const single = fromEsdbPosition({ commit: 1024n, prepare: 1024n });
      const split = fromEsdbPosition({ commit: 2048n, prepare: 1900n });

      expect(single).toBe('1024');
      expect(split).toBe('2048/1900');
      expect(JSON.parse(JSON.stringify({ split }))).toEqual({ split: '2048/1900' });
      expect(comparePositions(single, split)).toBeLessThan(0);
      expect(toEsdbPosition(split)).toEqual({ commit: 2048n, prepare: 1900n });
      expect(toEsdbPosition(single)).toEqual({ commit: 1024n, prepare: 1024n });
    });

    it('treats the "no position" sentinel of old servers as unknown', () => {
      expect(isKnownPosition({ commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n })).toBe(false);
      expect(isKnownPosition(undefined)).toBe(false);
      expect(isKnownPosition({ commit: 0n, prepare: 0n })).toBe(true);
    });
  });

  describe('filters', () => {
    it('recognises system events by stream or type', () => {
      expect(isSystemEvent({ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' })).toBe(true);
      expect(isSystemEvent({ streamId: 'user-1', type: '$metadata' })).toBe(true);
      expect(isSystemEvent({ streamId: 'user-1', type: 'UserRegistered' })).toBe(false);
    });

    it('matches events by type and by stream prefix', () => {
      const event = { stream: 'organisation-42', type: 'OrgConnectedToXero' };

      expect(matchesFilter(event, {})).toBe(true);
      expect(matchesFilter(event, { types: ['OrgConnectedToXero'] })).toBe(true);
      expect(matchesFilter(event, { types: ['MemberJoinedOrg'] })).toBe(false);
      expect(matchesFilter(event, { streamPrefix: 'organisation-' })).toBe(true);
      expect(matchesFilter(event, { streamPrefix: 'user-' })).toBe(false);
      expect(matchesFilter(event, { types: ['OrgConnectedToXero'], streamPrefix: 'user-' })).toBe(false);
    });

    it('asks the server for exact event types, a stream prefix, or no system events', () => {
      const byType = subscriptionFilter({ types: ['A.B', 'C'] });
      const byPrefix = subscriptionFilter({ streamPrefix: 'user-' });
      const everything = subscriptionFilter({});

      expect(byType).toMatchObject({ filterOn: 'eventType', regex: '^(?:A\\.B|C)$' });
      expect(new RegExp((byType as { regex: string }).regex).test('AxB')).toBe(false);
      expect(byPrefix).toMatchObject({ filterOn: 'streamName', prefixes: ['user-'] });
      expect(everything).toMatchObject({ filterOn: 'eventType' });
      expect(new RegExp((everything as { regex: string }).regex).test('$statsCollected')).toBe(false);
      expect(new RegExp((everything as { regex: string }).regex).test('UserRegistered')).toBe(true);
    });
  });

  describe('events', () => {
    const event = newEvent('UserRegistered', { userId: 'u-1' });
    const metadata = chainedMetadata('user-u-1', 0, event, '');

    it('writes JSON with the hash chain and the correlation keys EventStoreDB projections read', () => {
      const written = toEsdbEventData(event, metadata);

      expect(written).toMatchObject({
        id: event.metadata.eventId,
        type: 'UserRegistered',
        contentType: 'application/json',
        data: { userId: 'u-1' },
        metadata: {
          ...metadata,
          $correlationId: event.metadata.correlationId,
          $causationId: event.metadata.causationId,
        },
      });
      expect(metadata.hash).toBe(
        eventHash({ stream: 'user-u-1', revision: 0, type: 'UserRegistered', data: event.data, metadata, prevHash: '' }),
      );
    });

    it('reads a stored event back with number revision, string position and our metadata only', () => {
      const stored = toEsdbEventData(event, metadata);

      const recorded = fromEsdbEvent(resolvedFrom(stored, { commit: 4096n, prepare: 4000n }));

      expect(recorded).toEqual({
        stream: 'user-u-1',
        revision: 0,
        position: '4096/4000',
        type: 'UserRegistered',
        data: { userId: 'u-1' },
        metadata,
      });
    });

    it('falls back to the commit position, and refuses an event without any position', () => {
      const stored = toEsdbEventData(event, metadata);
      const unknown = { commit: 2n ** 64n - 1n, prepare: 2n ** 64n - 1n };

      expect(fromEsdbEvent({ ...resolvedFrom(stored, unknown), commitPosition: 77n })?.position).toBe('77');
      expect(() => fromEsdbEvent(resolvedFrom(stored, unknown))).toThrow('server 22.6 or later required');
    });

    it('skips system events', () => {
      const resolved = resolvedFrom(toEsdbEventData(event, metadata), { commit: 1n, prepare: 1n });
      resolved.event!.streamId = '$stats-node';

      expect(fromEsdbEvent(resolved)).toBeNull();
    });

    it('finds the head among events a subscriber delivers: not system events, not non-JSON events', () => {
      const json = resolvedFrom(toEsdbEventData(event, metadata), { commit: 10n, prepare: 10n });
      const binary: AllStreamResolvedEvent = { event: { ...json.event!, isJson: false, position: { commit: 30n, prepare: 30n } } as never };
      const system: AllStreamResolvedEvent = { event: { ...json.event!, streamId: '$stats-node', position: { commit: 20n, prepare: 20n } } };

      expect(newestOwnPosition([binary, system, json])).toEqual({ commit: 10n, prepare: 10n });
      expect(newestOwnPosition([binary, system])).toBeNull();
    });
  });

  describe('deadlines and outages', () => {
    it('turns the client\'s connection failures into 503 event_store_unavailable, and leaves other errors alone', () => {
      const unavailable = new UnavailableError(undefined as never);
      const conflict = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 1n, current: 2n });

      expect(asUnavailable(unavailable)).toEqual(eventStoreUnavailable());
      expect(asUnavailable(conflict)).toBe(conflict);
    });

    it('answers with the work when it finishes first, and cancels it when the deadline comes first', async () => {
      let cancelled = false;
      await expect(withinDeadline(Promise.resolve(7), 1_000)).resolves.toBe(7);
      await expect(withinDeadline(new Promise(() => undefined), 20, () => (cancelled = true))).rejects.toMatchObject({
        kind: 'unavailable',
        code: 'event_store_unavailable',
      });
      expect(cancelled).toBe(true);
    });
  });

  describe('buffered deliveries', () => {
    const accept = (item: unknown): number | null => (typeof item === 'number' && item % 2 === 0 ? item : null);

    it('says a next event is held only when an accepted one is already buffered, without waiting for more', async () => {
      const source = new PassThrough({ objectMode: true });
      const upcoming = new BufferedEvents(source, accept);
      source.write(2);
      source.write(3);
      source.write(4);

      expect(await upcoming.next()).toBe(2);
      expect(await upcoming.buffered()).toBe(4);
      expect(await upcoming.buffered()).toBeNull();
      source.write(5);
      expect(await upcoming.buffered()).toBeNull();
      source.end(6);
      expect(await upcoming.next()).toBe(6);
      expect(await upcoming.next()).toBeNull();
    });
  });
});

async function collectAll<T>(read: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of read) items.push(item);
  return items;
}

/** The shape the client yields for a JSON event read from $all. */
function resolvedFrom(
  written: ReturnType<typeof toEsdbEventData>,
  position: { commit: bigint; prepare: bigint },
): AllStreamResolvedEvent {
  return {
    event: {
      streamId: 'user-u-1',
      id: written.id,
      isJson: true,
      revision: 0n,
      type: written.type,
      created: new Date(0),
      data: written.data as Record<string, unknown>,
      metadata: written.metadata as Record<string, unknown>,
      position,
    },
  };
}
