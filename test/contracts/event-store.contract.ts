import { randomUUID } from 'node:crypto';
import type { EventData, NewEvent, RecordedEvent } from '../../src/kernel/event-envelope.js';
import { eventHash } from '../../src/kernel/hash-chain.js';
import { comparePositions } from '../../src/kernel/position.js';
import {
  EventIdConflictError,
  WrongExpectedRevisionError,
  type EventStore,
  type ExpectedRevision,
  type Subscription,
  type SubscriptionOptions,
} from '../../src/ports/event-store.port.js';

export interface EventStoreFixture {
  readonly store: EventStore;
  dispose(): Promise<void>;
  /**
   * Closes the store and opens a new one on the same storage, as a process restart would.
   * The fixture's dispose() must then dispose the reopened store.
   */
  reopen?(): Promise<EventStore>;
}

/**
 * The behaviour every EventStore adapter must share. Each test uses its own random stream names,
 * prefixes and event types and reads "after the head it saw first", so the suite also runs against
 * a shared EventStoreDB that other suites write to at the same time.
 */
export function eventStoreContract(name: string, makeStore: () => Promise<EventStoreFixture>): void {
  describe(`EventStore contract: ${name}`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.dispose();
    });

    describe('expected revision', () => {
      it('no_stream creates a stream whose revisions start at 0', async () => {
        const stream = streamName();
        const events = [newEvent('First'), newEvent('Second')];

        const result = await store.append(stream, events, 'no_stream');

        expect(result.nextRevision).toBe(1);
        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.revision)).toEqual([0, 1]);
        expect(ids(stored)).toEqual(ids(events));
        expect(stored.map((e) => e.type)).toEqual(['First', 'Second']);
        expect(stored[0]!.data).toEqual(events[0]!.data);
      });

      it('no_stream conflicts when the stream exists, naming expected and actual revision', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('A'), newEvent('B')], 'no_stream');

        const error = await conflictOf(store.append(stream, [newEvent('C')], 'no_stream'));

        expect(error).toMatchObject({ stream, expected: 'no_stream', actual: 1 });
        expect(error.message).toContain('no_stream');
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('stream_exists appends to an existing stream', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('A')], 'no_stream');

        const result = await store.append(stream, [newEvent('B')], 'stream_exists');

        expect(result.nextRevision).toBe(1);
      });

      it('stream_exists conflicts when the stream is missing, with actual no_stream', async () => {
        const stream = streamName();

        const error = await conflictOf(store.append(stream, [newEvent('A')], 'stream_exists'));

        expect(error).toMatchObject({ stream, expected: 'stream_exists', actual: 'no_stream' });
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('an exact revision appends when it is the last revision', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('A'), newEvent('B')], 'no_stream');

        const result = await store.append(stream, [newEvent('C'), newEvent('D')], 1);

        expect(result.nextRevision).toBe(3);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2, 3]);
      });

      it('an exact revision conflicts when stale, naming expected and actual revision', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('A'), newEvent('B'), newEvent('C')], 'no_stream');

        const stale = await conflictOf(store.append(stream, [newEvent('D')], 1));
        const ahead = await conflictOf(store.append(stream, [newEvent('D')], 5));

        expect(stale).toMatchObject({ stream, expected: 1, actual: 2 });
        expect(ahead).toMatchObject({ stream, expected: 5, actual: 2 });
        expect(await store.readStream(stream)).toHaveLength(3);
      });

      it('an exact revision conflicts with actual no_stream when the stream is missing', async () => {
        const stream = streamName();

        const error = await conflictOf(store.append(stream, [newEvent('A')], 0));

        expect(error).toMatchObject({ stream, expected: 0, actual: 'no_stream' });
      });

      it('an expected last event id appends only right after that event, and refuses a stranger at the same revision', async () => {
        const stream = streamName();
        const [a, b] = [newEvent('A'), newEvent('B')];
        await store.append(stream, [a, b], 'no_stream');

        const refused = await conflictOf(store.append(stream, [newEvent('C')], 1, { expectedLastEventId: a.metadata.eventId }));
        const result = await store.append(stream, [newEvent('C')], 1, { expectedLastEventId: b.metadata.eventId });

        expect(refused).toMatchObject({ stream, expected: 1 });
        expect(result.nextRevision).toBe(2);
        expect(await store.readStream(stream)).toHaveLength(3);
        await expect(store.append(stream, [newEvent('D')], 'any', { expectedLastEventId: b.metadata.eventId })).rejects.toBeInstanceOf(RangeError);
      });

      it('chains appends issued before the earlier ones commit, each right after the last; one that failed fails those after it', async () => {
        const stream = streamName();
        const head = newEvent('Head');
        await store.append(stream, [head], 'no_stream');
        const [first, second] = [newEvent('First'), newEvent('Second')];
        const chained = await Promise.all([
          store.append(stream, [first], 0, { expectedLastEventId: head.metadata.eventId }),
          store.append(stream, [second], 1, { expectedLastEventId: first.metadata.eventId }),
        ]);
        expect(chained.map((r) => r.nextRevision)).toEqual([1, 2]);

        // Another writer takes revision 3 first; the append that expected 2 fails, and the one
        // chained after it must not land on the stranger that now sits at revision 3.
        const [stranger, lost, after] = [newEvent('Stranger'), newEvent('Lost'), newEvent('After')];
        const outcomes = await Promise.allSettled([
          store.append(stream, [stranger], 2),
          store.append(stream, [lost], 2, { expectedLastEventId: second.metadata.eventId }),
          store.append(stream, [after], 3, { expectedLastEventId: lost.metadata.eventId }),
        ]);

        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
        expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
        const stored = await store.readStream(stream);
        expect(ids(stored)).toEqual(ids([head, first, second, stranger]));
        expectValidChain(stored);
      });

      it('any appends whether or not the stream exists', async () => {
        const stream = streamName();

        const first = await store.append(stream, [newEvent('A')], 'any');
        const second = await store.append(stream, [newEvent('B')], 'any');

        expect([first.nextRevision, second.nextRevision]).toEqual([0, 1]);
      });
    });

    describe('positions', () => {
      it('returns the position of the last event written, strictly increasing across streams', async () => {
        const prefix = uniquePrefix();
        const streams = [`${prefix}-a`, `${prefix}-b`, `${prefix}-a`, `${prefix}-c`];
        const results = [];
        for (const stream of streams) results.push(await store.append(stream, [newEvent('X'), newEvent('Y')], 'any'));

        for (let i = 1; i < results.length; i++) {
          expect(comparePositions(results[i - 1]!.position, results[i]!.position)).toBeLessThan(0);
        }
        const all = await store.readAll({ streamPrefix: prefix });
        expect(all).toHaveLength(8);
        expect(results.map((r) => r.position)).toEqual([all[1], all[3], all[5], all[7]].map((e) => e!.position));
        const lastOfA = await store.readStream(`${prefix}-a`, { direction: 'backwards', limit: 1 });
        expect(lastOfA[0]!.position).toBe(results[2]!.position);
      });

      it('reports the head position at or after the last append, and answers ping', async () => {
        const result = await store.append(streamName(), [newEvent('A')], 'no_stream');

        const head = await store.headPosition();

        expect(head).not.toBeNull();
        expect(comparePositions(head!, result.position)).toBeGreaterThanOrEqual(0);
        expect(await store.ping()).toBe(true);
      });
    });

    describe('reading', () => {
      it('reads a stream forwards and backwards from a revision, with a limit', async () => {
        const stream = streamName();
        await store.append(stream, [0, 1, 2, 3, 4].map((n) => newEvent('N', { n })), 'no_stream');

        const revisions = async (options: Parameters<EventStore['readStream']>[1]) =>
          (await store.readStream(stream, options)).map((e) => e.revision);

        expect(await revisions({})).toEqual([0, 1, 2, 3, 4]);
        expect(await revisions({ fromRevision: 2, limit: 2 })).toEqual([2, 3]);
        expect(await revisions({ direction: 'backwards' })).toEqual([4, 3, 2, 1, 0]);
        expect(await revisions({ direction: 'backwards', fromRevision: 3, limit: 2 })).toEqual([3, 2]);
        expect(await revisions({ fromRevision: 5 })).toEqual([]);
      });

      it('reads a missing stream as empty in both directions', async () => {
        const stream = streamName();

        expect(await store.readStream(stream)).toEqual([]);
        expect(await store.readStream(stream, { direction: 'backwards', limit: 1 })).toEqual([]);
      });

      it('reads all events strictly after a position, with a limit', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const events = [newEvent('A'), newEvent('B'), newEvent('C')];
        await store.append(`${prefix}-a`, events, 'no_stream');

        const mine = await store.readAll({ after: head, streamPrefix: prefix });
        const afterFirst = await store.readAll({ after: mine[0]!.position, streamPrefix: prefix, limit: 1 });
        const unfiltered = await store.readAll({ after: mine[0]!.position, limit: 2 });

        expect(ids(mine)).toEqual(ids(events));
        expect(ids(afterFirst)).toEqual([events[1]!.metadata.eventId]);
        expect(ids(unfiltered)).toEqual(ids(events.slice(1)));
      });

      it('reads all events filtered by types, by stream prefix, or both', async () => {
        const prefix = uniquePrefix();
        const [wanted, other] = [`Wanted${uniqueSuffix()}`, `Other${uniqueSuffix()}`];
        const head = (await store.headPosition()) ?? undefined;
        const a = [newEvent(wanted), newEvent(other), newEvent(wanted)];
        const b = [newEvent(other), newEvent(wanted)];
        await store.append(`${prefix}-a`, a, 'no_stream');
        await store.append(`${prefix}-b`, b, 'no_stream');
        await store.append(`${uniquePrefix()}-c`, [newEvent(wanted)], 'no_stream');

        const byType = await store.readAll({ after: head, types: [wanted] });
        const byPrefix = await store.readAll({ after: head, streamPrefix: `${prefix}-` });
        const both = await store.readAll({ after: head, types: [wanted], streamPrefix: `${prefix}-b` });
        const twoTypes = await store.readAll({ after: head, types: [wanted, other], streamPrefix: prefix });

        expect(byType).toHaveLength(4);
        expect(byType.every((e) => e.type === wanted)).toBe(true);
        expect(ids(byPrefix)).toEqual(ids([...a, ...b]));
        expect(ids(both)).toEqual([b[1]!.metadata.eventId]);
        expect(twoTypes).toHaveLength(5);
      });
    });

    describe('hash chain', () => {
      it('links every event to its predecessor and hashes it canonically, across appends', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('A', { v: 1 }), newEvent('B', { nested: { z: 1, a: [1, 2] } })], 'no_stream');
        await store.append(stream, [newEvent('C')], 1);
        await store.append(stream, [newEvent('D')], 'any');

        const stored = await store.readStream(stream);

        expect(stored).toHaveLength(4);
        expect(stored[0]!.metadata.prevHash).toBe('');
        expectValidChain(stored);
      });
    });

    describe('retries and event ids', () => {
      const expectations = ['no_stream', 'exact revision', 'any', 'stream_exists'] as const;
      /** The stream before the first attempt, and the expectation that attempt used. */
      async function prepared(kind: (typeof expectations)[number]): Promise<{ stream: string; expected: ExpectedRevision }> {
        const stream = streamName();
        if (kind === 'no_stream') return { stream, expected: 'no_stream' };
        await store.append(stream, [newEvent('Before')], 'no_stream');
        return { stream, expected: kind === 'exact revision' ? 0 : kind };
      }

      it.each(expectations)('recognises a late retry by its event ids with %s: the original answer, nothing appended twice', async (kind) => {
        const { stream, expected } = await prepared(kind);
        const attempt = [newEvent('A'), newEvent('B')];
        const original = await store.append(stream, attempt, expected);
        const later = await store.append(stream, [newEvent('Later')], original.nextRevision);

        const retried = await store.append(stream, attempt, expected);

        expect(retried).toEqual(original);
        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.revision)).toEqual([...Array(later.nextRevision + 1).keys()]);
        expect(ids(stored).filter((id) => ids(attempt).includes(id))).toEqual(ids(attempt));
      });

      it.each(expectations)('refuses a retry whose ids match what was stored only in part, with %s, appending nothing', async (kind) => {
        const { stream, expected } = await prepared(kind);
        const [a, b] = [newEvent('A'), newEvent('B')];
        await store.append(stream, [a, b], expected);
        const before = await store.readStream(stream);

        const partly = await store.append(stream, [a, newEvent('C')], expected).catch((error: unknown) => error);

        expect(partly).toBeInstanceOf(EventIdConflictError);
        expect(partly).toMatchObject({ stream });
        expect(await store.readStream(stream)).toEqual(before);
      });

      it('keeps ids per stream: the same id in another stream is another event', async () => {
        const prefix = uniquePrefix();
        const event = newEvent('Shared');

        await store.append(`${prefix}-one`, [event], 'no_stream');
        const other = await store.append(`${prefix}-two`, [event], 'no_stream');

        expect(other.nextRevision).toBe(0);
        expect(ids(await store.readAll({ streamPrefix: prefix }))).toEqual(ids([event, event]));
      });
    });

    describe('concurrency', () => {
      it('lets exactly one of ten racing appends win a revision; the losers get a conflict', async () => {
        const stream = streamName();
        await store.append(stream, [newEvent('Created')], 'no_stream');

        const racers = Array.from({ length: 10 }, () => store.append(stream, [newEvent('Raced')], 0));
        const outcomes = await Promise.allSettled(racers);

        const won = outcomes.filter((o) => o.status === 'fulfilled');
        const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const loss of lost) {
          expect(loss.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(loss.reason).toMatchObject({ expected: 0, actual: 1 });
        }
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('loses nothing when ten writers retry on conflict until each has appended once', async () => {
        const stream = streamName();
        const events = Array.from({ length: 10 }, (_, n) => newEvent('Written', { n }));
        let conflicts = 0;

        await Promise.all(
          events.map(async (event) => {
            for (let attempt = 0; attempt < 50; attempt++) {
              const [last] = await store.readStream(stream, { direction: 'backwards', limit: 1 });
              try {
                await store.append(stream, [event], last ? last.revision : 'no_stream');
                return;
              } catch (error) {
                if (!(error instanceof WrongExpectedRevisionError)) throw error;
                conflicts++;
              }
            }
            throw new Error('writer never got its turn');
          }),
        );

        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(new Set(ids(stored))).toEqual(new Set(ids(events)));
        expect(conflicts).toBeGreaterThan(0);
        expectValidChain(stored);
      });

      it('settles appends issued together one by one: a conflict fails alone and stores nothing', async () => {
        const taken = streamName();
        await store.append(taken, [newEvent('Created')], 'no_stream');
        const [fresh, other] = [streamName(), streamName()];
        const freshEvent = newEvent('Fresh');
        const otherEvents = [newEvent('First'), newEvent('Second')];

        const outcomes = await Promise.allSettled([
          store.append(fresh, [freshEvent], 'no_stream'),
          store.append(taken, [newEvent('Conflicting')], 'no_stream'),
          store.append(other, otherEvents, 'any'),
        ]);

        expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedRevisionError);
        expect(ids(await store.readStream(fresh))).toEqual(ids([freshEvent]));
        expect(await store.readStream(taken)).toHaveLength(1);
        const stored = await store.readStream(other);
        expect(ids(stored)).toEqual(ids(otherEvents));
        expectValidChain(stored);
      });
    });

    describe('idempotent retries', () => {
      it('stores a retried append once and answers with the original result, for every expectation', async () => {
        const stream = streamName();
        const created = [newEvent('A'), newEvent('B')];
        const next = [newEvent('C')];
        const later = [newEvent('D')];
        const loose = [newEvent('E'), newEvent('F')];

        const createdResult = await store.append(stream, created, 'no_stream');
        expect(await store.append(stream, created, 'no_stream')).toEqual(createdResult);

        const nextResult = await store.append(stream, next, 1);
        expect(await store.append(stream, next, 1)).toEqual(nextResult);

        await store.append(stream, later, 2);
        // A late retry, after someone else appended: still recognised, still not appended.
        expect(await store.append(stream, next, 1)).toEqual(nextResult);

        const looseResult = await store.append(stream, loose, 'any');
        expect(await store.append(stream, loose, 'any')).toEqual(looseResult);
        expect(await store.append(stream, loose, 'stream_exists')).toEqual(looseResult);

        const stored = await store.readStream(stream);
        expect(ids(stored)).toEqual(ids([...created, ...next, ...later, ...loose]));
        expectValidChain(stored);
      });
    });

    describe('subscriptions', () => {
      const subscriptions: Subscription[] = [];
      afterEach(async () => {
        await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      });
      const follow = (target: EventStore, options: FollowerOptions): Follower => {
        const follower = startFollower(target, options);
        subscriptions.push(follower.subscription);
        return follower;
      };

      it('never promises a next event it does not deliver at once: the last one caught up comes with more=false', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const stored = [newEvent('A'), newEvent('B'), newEvent('C')];
        await store.append(`${prefix}-a`, stored, 'no_stream');
        const deliveries: { id: string; more: boolean }[] = [];
        const subscription = store.subscribe(
          async (event, delivery) => {
            deliveries.push({ id: event.metadata.eventId, more: delivery.more });
          },
          { after: head, streamPrefix: prefix },
        );
        subscriptions.push(subscription);

        await waitUntil(() => deliveries.length === stored.length, 'the stored events to be delivered');
        expect(deliveries.map((d) => d.id)).toEqual(ids(stored));
        expect(deliveries.at(-1)!.more).toBe(false);
      });

      it('promises a next event while it holds one: a handler slow on the first of stored events is told more=true', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const stored = [newEvent('A'), newEvent('B'), newEvent('C')];
        await store.append(`${prefix}-a`, stored, 'no_stream');
        const deliveries: { id: string; more: boolean }[] = [];
        const subscription = store.subscribe(
          async (event, delivery) => {
            // Time for the rest to arrive from the server; an adapter that read them in one page holds them already.
            if (deliveries.length === 0) await new Promise((resolve) => setTimeout(resolve, 300));
            deliveries.push({ id: event.metadata.eventId, more: delivery.more });
          },
          { after: head, streamPrefix: prefix },
        );
        subscriptions.push(subscription);

        await waitUntil(() => deliveries.length === stored.length, 'the stored events to be delivered');
        expect(deliveries.map((d) => d.id)).toEqual(ids(stored));
        expect(deliveries.map((d) => d.more)).toEqual([true, true, false]);
      });

      it('catches up on stored events, then delivers live ones, each once and in order', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const stored = [newEvent('A'), newEvent('B'), newEvent('C')];
        await store.append(`${prefix}-a`, stored, 'no_stream');

        const follower = follow(store, { after: head, streamPrefix: prefix });
        await follower.waitFor(stored.at(-1)!);
        const live = [newEvent('D'), newEvent('E')];
        await store.append(`${prefix}-b`, live, 'no_stream');
        const sentinel = newEvent('Sentinel');
        await store.append(`${prefix}-a`, [sentinel], 2);
        await follower.waitFor(sentinel);

        expect(ids(follower.handled)).toEqual(ids([...stored, ...live, sentinel]));
        expectStrictlyIncreasing(follower.handled);
      });

      it('delivers only the requested event types', async () => {
        const prefix = uniquePrefix();
        const wanted = `Wanted${uniqueSuffix()}`;
        const head = (await store.headPosition()) ?? undefined;
        const follower = follow(store, { after: head, types: [wanted] });
        const events = [newEvent(wanted), newEvent('Unwanted'), newEvent(wanted)];

        await store.append(`${prefix}-a`, events, 'no_stream');
        await follower.waitFor(events[2]!);

        expect(ids(follower.handled)).toEqual(ids([events[0]!, events[2]!]));
      });

      it('resumes after a stored position with nothing missed or repeated, across a restart where the fixture can reopen', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const first = [newEvent('A'), newEvent('B')];
        await store.append(`${prefix}-a`, first, 'no_stream');
        const before = follow(store, { after: head, streamPrefix: prefix });
        await before.waitFor(first[1]!);
        await before.subscription.stop();
        const checkpoint = before.handled.at(-1)!.position;

        const missed = [newEvent('C'), newEvent('D')];
        await store.append(`${prefix}-b`, missed, 'no_stream');
        const resumedOn = fixture.reopen ? await fixture.reopen() : store;
        store = resumedOn;
        const after = follow(resumedOn, { after: checkpoint, streamPrefix: prefix });
        await after.waitFor(missed[1]!);
        const sentinel = newEvent('Sentinel');
        await resumedOn.append(`${prefix}-a`, [sentinel], 1);
        await after.waitFor(sentinel);

        expect(ids(before.handled)).toEqual(ids(first));
        expect(ids(after.handled)).toEqual(ids([...missed, sentinel]));
      });

      it('redelivers an event whose handler failed, without skipping it or breaking order', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const events = [newEvent('A'), newEvent('B'), newEvent('C')];
        const attempts: string[] = [];
        const errors: unknown[] = [];
        let failuresLeft = 2;
        const follower = follow(store, {
          after: head,
          streamPrefix: prefix,
          onError: (error) => errors.push(error),
          beforeHandling: (event) => {
            attempts.push(event.metadata.eventId);
            if (event.metadata.eventId === events[1]!.metadata.eventId && failuresLeft > 0) {
              failuresLeft--;
              throw new Error('projection temporarily unavailable');
            }
          },
        });

        await store.append(`${prefix}-a`, events, 'no_stream');
        await follower.waitFor(events[2]!);

        const [a, b, c] = ids(events);
        expect(attempts).toEqual([a, b, b, b, c]);
        expect(ids(follower.handled)).toEqual([a, b, c]);
        expect(errors).toHaveLength(2);
        expect(errors[0]).toEqual(new Error('projection temporarily unavailable'));
      });

      it('stop() resolves only once the handler in flight has finished, then delivers nothing more', async () => {
        const prefix = uniquePrefix();
        const head = (await store.headPosition()) ?? undefined;
        const gate = deferred();
        const entered = deferred();
        const handled: string[] = [];
        const subscription = store.subscribe(
          async (event) => {
            entered.resolve();
            await gate.promise;
            handled.push(event.metadata.eventId);
          },
          { after: head, streamPrefix: prefix },
        );
        await store.append(`${prefix}-a`, [newEvent('A'), newEvent('B')], 'no_stream');
        await entered.promise;

        let stopped = false;
        const stopping = subscription.stop().then(() => {
          stopped = true;
        });
        await turnsOfTheEventLoop(20);
        expect(stopped).toBe(false);
        gate.resolve();
        await stopping;

        const witness = follow(store, { after: head, streamPrefix: prefix });
        const sentinel = newEvent('Sentinel');
        await store.append(`${prefix}-a`, [sentinel], 'any');
        await witness.waitFor(sentinel);
        expect(handled).toHaveLength(1);
      });
    });
  });
}

/* ---------- helpers ---------- */

interface Follower {
  readonly subscription: Subscription;
  readonly handled: RecordedEvent[];
  waitFor(event: NewEvent): Promise<void>;
}

interface FollowerOptions extends SubscriptionOptions {
  /** Runs before the event counts as handled; throwing makes the delivery fail. */
  readonly beforeHandling?: (event: RecordedEvent) => void;
}

function startFollower(store: EventStore, options: FollowerOptions): Follower {
  const handled: RecordedEvent[] = [];
  const subscription = store.subscribe(async (event) => {
    options.beforeHandling?.(event);
    handled.push(event);
  }, options);
  return {
    subscription,
    handled,
    waitFor: (event) =>
      waitUntil(
        () => handled.some((e) => e.metadata.eventId === event.metadata.eventId),
        `event ${event.type} to be delivered`,
      ),
  };
}

/** Polls a condition a bounded number of times; failing means "never happened", not "too slow". */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function turnsOfTheEventLoop(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function conflictOf(append: Promise<unknown>): Promise<WrongExpectedRevisionError> {
  const error = await append.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  return error as WrongExpectedRevisionError;
}

export function expectValidChain(events: readonly RecordedEvent[]): void {
  events.forEach((event, index) => {
    const prevHash = index === 0 ? '' : events[index - 1]!.metadata.hash;
    expect(event.metadata.prevHash).toBe(prevHash);
    const { stream, revision, type, data, metadata } = event;
    expect(event.metadata.hash).toBe(eventHash({ stream, revision, type, data, metadata, prevHash }));
  });
}

function expectStrictlyIncreasing(events: readonly RecordedEvent[]): void {
  for (let i = 1; i < events.length; i++) {
    expect(comparePositions(events[i - 1]!.position, events[i]!.position)).toBeLessThan(0);
  }
}

function ids(events: readonly (NewEvent | RecordedEvent)[]): string[] {
  return events.map((event) => event.metadata.eventId);
}

function uniqueSuffix(): string {
  return randomUUID().replace(/-/g, '').slice(0, 12);
}

function uniquePrefix(): string {
  return `contract${uniqueSuffix()}`;
}

function streamName(): string {
  return `${uniquePrefix()}-stream`;
}

export function newEvent(type: string, data: EventData = { note: 'contract' }): NewEvent {
  return {
    type,
    data,
    metadata: {
      eventId: randomUUID(),
      occurredAt: '2026-01-05T09:00:00.000Z',
      actor: { id: 'contract-suite', roles: ['platform'] },
      correlationId: randomUUID(),
      causationId: randomUUID(),
      schemaVersion: 1,
    },
  };
}
