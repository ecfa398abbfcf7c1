import { Writable } from 'node:stream';
import { join } from 'node:path';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite.event-store.js';
import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';
import { createLogger } from '../../src/infrastructure/logging/pino.logger.js';
import { toNewEvents } from '../../src/application/command-handling.js';
import { newId } from '../../src/kernel/ids.js';
import type { Projection } from '../../src/projections/projection.js';
import { ProjectionRunner } from '../../src/projections/projection.runner.js';
import { CheckpointProgress } from '../../src/projections/read-model-progress.js';
import { makeTempDir } from '../support/temp-dir.js';
import { ObservedReadStore } from '../support/observed.read-store.js';

const actor = { id: 'test', roles: [] };
const context = () => ({ commandId: newId(), correlationId: 'c', actor, now: new Date('2026-01-01T00:00:00Z') });

/** Counts "Tick" events per stream; the count lives in the read model, so double-application shows. */
function counter(name: string, options: { failFirst?: number } = {}): Projection & { attempts: number } {
  let failuresLeft = options.failFirst ?? 0;
  const projection = {
    name,
    handles: ['Tick'],
    indexes: {},
    attempts: 0,
    async apply(event: { stream: string }, view: { get: (c: string, id: string) => Promise<{ id: string; count: number } | null> }) {
      projection.attempts += 1;
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        throw new Error('transient failure');
      }
      const current = await view.get(name, event.stream);
      return [{ kind: 'upsert' as const, collection: name, doc: { id: event.stream, count: (current?.count ?? 0) + 1 } }];
    },
  };
  return projection as unknown as Projection & { attempts: number };
}

describe('projection runner', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let events: SqliteEventStore;
  let reads: SqliteReadStore;
  let logged: string;
  const logger = () => createLogger('warn', new Writable({ write: (chunk, _e, done) => { logged += chunk.toString(); done(); } }));

  beforeEach(() => {
    dir = makeTempDir('tfe-runner-');
    db = openSqlite(join(dir.path, 'db.sqlite'));
    events = new SqliteEventStore(db, { pollIntervalMs: 20, retry: { initialMs: 10, maxMs: 50 } });
    reads = new SqliteReadStore(db);
    logged = '';
  });
  afterEach(async () => {
    await events.close();
    db.close();
    dir.remove();
  });

  const tick = async (stream: string, n = 1) => {
    let last = '';
    for (let i = 0; i < n; i++) last = (await events.append(stream, toNewEvents([{ type: 'Tick', data: {} }], context()), 'any')).position;
    return last;
  };

  it('applies events, answers read-your-writes waits, and ignores other event types', async () => {
    const runner = new ProjectionRunner(events, reads, [counter('ticks')], logger());
    await runner.start();
    await events.append('s-other', toNewEvents([{ type: 'Unrelated', data: {} }], context()), 'any');
    const position = await tick('s-1', 3);
    expect(await runner.waitFor(position, 5_000)).toBe(true);
    expect(await reads.get('ticks', 's-1')).toEqual({ id: 's-1', count: 3 });
    expect(await runner.waitFor('999999', 50)).toBe(false);
    await runner.stop();
  });

  it('retries a failing projection without skipping the event or holding the others back', async () => {
    const flaky = counter('flaky', { failFirst: 3 });
    const steady = counter('steady');
    const runner = new ProjectionRunner(events, reads, [flaky, steady], logger());
    await runner.start();
    const position = await tick('s-1', 2);
    expect(await runner.waitFor(position, 10_000)).toBe(true);
    expect(await reads.get('flaky', 's-1')).toEqual({ id: 's-1', count: 2 });
    expect(await reads.get('steady', 's-1')).toEqual({ id: 's-1', count: 2 });
    expect(flaky.attempts).toBe(5);
    expect(logged).toContain('projection failed; retrying');
    expect(logged).not.toContain('transient failure\\n    at');
    await runner.stop();
  });

  it('resumes from its checkpoint after a restart: nothing missed, nothing applied twice', async () => {
    const first = new ProjectionRunner(events, reads, [counter('ticks')], logger());
    await first.start();
    expect(await first.waitFor(await tick('s-1', 5), 5_000)).toBe(true);
    await first.stop();
    const whileDown = await tick('s-1', 4);
    const second = new ProjectionRunner(events, reads, [counter('ticks')], logger());
    await second.start();
    expect(await second.waitFor(whileDown, 5_000)).toBe(true);
    expect(await reads.get('ticks', 's-1')).toEqual({ id: 's-1', count: 9 });
    await second.stop();
  });

  it('lets an API-only process wait on the projector\'s stored checkpoints', async () => {
    const runner = new ProjectionRunner(events, reads, [counter('ticks')], logger());
    await runner.start();
    const progress = new CheckpointProgress(events, reads, ['ticks']);
    const position = await tick('s-1', 2);
    expect(await progress.waitFor(position, 5_000)).toBe(true);
    expect(await progress.waitFor('999999', 60)).toBe(false);
    await runner.stop();
  });

  it('keeps storing the checkpoint of a projection that handles none of a steady stream of events', async () => {
    const runner = new ProjectionRunner(events, reads, [counter('ticks')], logger());
    await runner.start();
    const progress = new CheckpointProgress(events, reads, ['ticks']);
    const first = (await events.append('s-other', toNewEvents([{ type: 'Unrelated', data: {} }], context()), 'any')).position;
    let writing = true;
    const steady = (async () => {
      // One unrelated event every 5 ms, for at most 2 s: never idle for the checkpoint delay.
      for (let i = 0; i < 400 && writing; i++) {
        await events.append('s-other', toNewEvents([{ type: 'Unrelated', data: {} }], context()), 'any');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const reached = await progress.waitFor(first, 1_000);
    writing = false;
    await steady;
    expect(reached).toBe(true);
    await runner.stop();
  });

  describe('batches', () => {
    let observed: ObservedReadStore;
    beforeEach(() => {
      observed = new ObservedReadStore(db);
    });

    it('commits events that arrive together in one write, each seeing the writes staged before it', async () => {
      const last = await tick('s-1', 60);
      const runner = new ProjectionRunner(events, observed, [counter('ticks')], logger());
      await runner.start();

      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(await reads.get('ticks', 's-1')).toEqual({ id: 's-1', count: 60 });
      expect(await reads.getCheckpoint('ticks')).toBe(last);
      // At most 100 events per batch: 60 stored events are one commit, not 60.
      expect(observed.writes).toBe(1);
      await runner.stop();
    });

    it('commits an urgent projection\'s batch before the batches of others woken by the same events', async () => {
      const commits: string[] = [];
      class OrderedReadStore extends SqliteReadStore {
        override async write(...args: Parameters<SqliteReadStore['write']>): Promise<void> {
          await super.write(...args);
          if (args[0].length > 0) commits.push(args[1]!.name);
        }
      }
      const urgent = Object.assign(counter('urgent'), { urgent: true });
      const runner = new ProjectionRunner(events, new OrderedReadStore(db), [counter('first_listed'), counter('second_listed'), urgent], logger());
      await runner.start();
      // Appended together once the subscriptions are idle, so one wake delivers them to all three.
      await new Promise((resolve) => setTimeout(resolve, 50));
      const ticks = Array.from({ length: 5 }, () => ({ type: 'Tick', data: {} }));
      const last = (await events.append('s-1', toNewEvents(ticks, context()), 'any')).position;

      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(commits[0]).toBe('urgent');
      expect(commits.slice(1).sort()).toEqual(['first_listed', 'second_listed']);
      await runner.stop();
    });

    it('reports nothing as reached while a batch cannot commit, then commits it without applying any event twice', async () => {
      const first = await tick('s-1');
      const last = await tick('s-1', 9);
      const ticks = counter('ticks');
      observed.failing = true;
      const runner = new ProjectionRunner(events, observed, [ticks], logger());
      await runner.start();

      expect(await runner.waitFor(first, 150)).toBe(false);
      expect(await reads.get('ticks', 's-1')).toBeNull();
      observed.failing = false;

      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(await reads.get('ticks', 's-1')).toEqual({ id: 's-1', count: 10 });
      expect(ticks.attempts).toBe(10);
      await runner.stop();
    });

    it('batches a saga too, applying each event once even while the batch cannot commit', async () => {
      const first = await tick('s-1');
      const last = await tick('s-1', 4);
      const saga = Object.assign(counter('saga'), { rebuildable: false });
      observed.failing = true;
      const runner = new ProjectionRunner(events, observed, [saga], logger());
      await runner.start();
      expect(await runner.waitFor(first, 150)).toBe(false);
      expect(await reads.get('saga', 's-1')).toBeNull();
      observed.failing = false;

      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(await reads.get('saga', 's-1')).toEqual({ id: 's-1', count: 5 });
      // Its side effects ran once per event: the failed commits were retried, not the events.
      expect(saga.attempts).toBe(5);
      await runner.stop();
    });

    it('drops a batch it could not commit when paused, and resumes before it', async () => {
      const last = await tick('s-1', 4);
      observed.failing = true;
      const runner = new ProjectionRunner(events, observed, [counter('ticks')], logger());
      await runner.start();
      expect(await runner.waitFor(last, 100)).toBe(false);

      expect(await runner.pause('ticks')).toBeNull();
      observed.failing = false;
      await runner.resume('ticks', null);

      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(await reads.get('ticks', 's-1')).toEqual({ id: 's-1', count: 4 });
      await runner.stop();
    });

    it('keeps what a read forced out of a dropped batch as reached, never moving the stored checkpoint back', async () => {
      // Counts like `counter`, but first looks its collection up with find(), which makes the
      // batch write what it staged so far (with a checkpoint) before answering.
      const finder = counter('finder');
      const apply = finder.apply.bind(finder);
      finder.apply = async (event, view) => {
        await view.find('finder', {});
        return apply(event, view);
      };
      const committed = await tick('s-1');
      const runner = new ProjectionRunner(events, observed, [finder], logger());
      await runner.start();
      expect(await runner.waitFor(committed, 5_000)).toBe(true);
      await runner.pause('finder');

      await tick('s-1', 2);
      const forcedOut = (await events.readAll({ after: committed })).at(-1)!.position;
      const last = await tick('s-1');
      observed.failingAt = last;
      await runner.resume('finder', committed);
      for (let i = 0; i < 100 && (await reads.getCheckpoint('finder')) !== forcedOut; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await reads.getCheckpoint('finder')).toBe(forcedOut);

      expect(await runner.pause('finder')).toBe(forcedOut);
      expect(await reads.getCheckpoint('finder')).toBe(forcedOut);
      observed.failingAt = null;
      await runner.resume('finder', forcedOut);
      expect(await runner.waitFor(last, 5_000)).toBe(true);
      expect(await reads.get('finder', 's-1')).toEqual({ id: 's-1', count: 4 });
      await runner.stop();
    });
  });
});
