import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { conflictBackoffMs, handleCommand, type CommandContext } from '../../src/application/command-handling.js';
import { StreamCommandQueue } from '../../src/application/stream-command.queue.js';
import { StreamStateCache } from '../../src/application/stream-state.cache.js';
import { SqliteEventStore } from '../../src/infrastructure/event-store/sqlite.event-store.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { isDomainError } from '../../src/kernel/domain-error.js';
import type { Actor } from '../../src/kernel/event-envelope.js';
import type { OrganisationCommand } from '../../src/organisations/organisation.commands.js';
import { organisationDecider, organisationStream, type OrganisationState } from '../../src/organisations/organisation.decider.js';
import { makeTempDir } from '../support/temp-dir.js';

const platform: Actor = { id: 'host-platform', roles: ['platform'] };
const STREAM = organisationStream('acme');

function context(): CommandContext {
  const commandId = randomUUID();
  return { commandId, correlationId: commandId, actor: platform, now: new Date('2026-12-01T12:00:00Z') };
}

/** One "process": its own connection to the shared SQLite file, its own store, queue and state cache. */
interface Process {
  readonly store: SqliteEventStore;
  readonly cache: StreamStateCache<OrganisationState>;
  run(command: OrganisationCommand): ReturnType<typeof handleCommand<OrganisationCommand, OrganisationState, never>>;
}

async function withProcesses(count: number, test: (processes: Process[]) => Promise<void>): Promise<void> {
  const dir = makeTempDir('tfe-commands-');
  const path = join(dir.path, 'store.sqlite');
  const dbs: SqliteDatabase[] = [];
  const processes = Array.from({ length: count }, () => {
    const db = openSqlite(path);
    dbs.push(db);
    const store = new SqliteEventStore(db, { pollIntervalMs: 50 });
    const cache = new StreamStateCache<OrganisationState>();
    return { store, cache, run: (command: OrganisationCommand) => handleCommand(store, organisationDecider, STREAM, command, context(), cache) as never };
  });
  try {
    await processes[0]!.run({ type: 'RegisterOrganisation', orgId: 'acme', name: 'Acme', actor: platform });
    await test(processes);
  } finally {
    for (const process of processes) await process.store.close();
    for (const db of dbs) db.close();
    dir.remove();
  }
}

const joining = (userId: string): OrganisationCommand => ({ type: 'SetMember', userId, role: 'member', actor: platform });

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('StreamCommandQueue', () => {
  it('runs one stream’s commands one at a time in arrival order, other streams alongside', async () => {
    const queue = new StreamCommandQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run('a', async () => {
      log.push('a1 start');
      await gate.promise;
      log.push('a1 end');
    });
    const second = queue.run('a', async () => void log.push('a2'));
    const other = queue.run('b', async () => void log.push('b1'));
    await other;
    expect(log).toEqual(['a1 start', 'b1']);
    gate.resolve();
    await Promise.all([first, second]);
    expect(log).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });

  it('lets the next command run after one fails, and hands each caller its own outcome', async () => {
    const queue = new StreamCommandQueue();
    const failed = queue.run('a', async () => {
      throw new Error('refused');
    });
    const next = queue.run('a', async () => 42);
    await expect(failed).rejects.toThrow('refused');
    await expect(next).resolves.toBe(42);
  });

  it('forgets a stream once its last command settled', async () => {
    const queue = new StreamCommandQueue();
    await Promise.all(Array.from({ length: 50 }, (_, i) => queue.run(`stream-${i % 5}`, async () => i)));
    await new Promise((resolve) => setImmediate(resolve));
    expect(queue.activeStreams()).toBe(0);
  });

  it('starts the next command once the one before hands over, with what it handed over, and tells it when all before have settled', async () => {
    const queue = new StreamCommandQueue();
    const log: string[] = [];
    const gate = deferred();
    const first = queue.run('a', async (turn) => {
      turn.handOver('state after the first');
      turn.handOver('ignored');
      await gate.promise;
      log.push('first settles');
    });
    const second = queue.run('a', async (turn) => {
      log.push(`second starts on ${String(turn.tip)}`);
      await turn.previousSettled;
      log.push('second sees the first settled');
    });
    const third = queue.run('a', async (turn) => void log.push(`third starts on ${String(turn.tip)}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['second starts on state after the first']);
    gate.resolve();
    await Promise.all([first, second, third]);
    expect(log).toEqual(['second starts on state after the first', 'first settles', 'second sees the first settled', 'third starts on undefined']);
  });

  it('turns commands away with 503 stream_busy beyond its bound, and takes them again once drained', async () => {
    const queue = new StreamCommandQueue(3);
    const gate = deferred();
    const admitted = [1, 2, 3].map(() => queue.run('a', () => gate.promise));
    const refused = await queue.run('a', async () => undefined).catch((error: unknown) => error);
    expect(isDomainError(refused) && { kind: refused.kind, code: refused.code, details: refused.details }).toEqual({ kind: 'unavailable', code: 'stream_busy', details: { retryAfterSeconds: 1 } });
    gate.resolve();
    await Promise.all(admitted);
    await expect(queue.run('a', async () => 'again')).resolves.toBe('again');
  });
});

describe('handleCommand under concurrency', () => {
  it('decides 200 concurrent commands on one stream in one process without a conflict or a refusal', async () => {
    await withProcesses(1, async ([process]) => {
      const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => process!.run(joining(`user-${i}`))));
      expect(outcomes.map((o) => o.revision).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const joined = (await process!.store.readStream(STREAM)).filter((e) => e.type === 'MemberJoinedOrg');
      // Arrival order is kept: the stream lists the users in the order the commands were sent.
      expect(joined.map((e) => (e.data as { userId: string }).userId)).toEqual(Array.from({ length: 200 }, (_, i) => `user-${i}`));
    });
  });

  it('resolves conflicts between processes by deciding again after a jittered backoff: every command succeeds', async () => {
    await withProcesses(3, async (processes) => {
      const runs = processes.flatMap((process, p) => Array.from({ length: 40 }, (_, i) => process.run(joining(`p${p}-user-${i}`))));
      const settled = await Promise.allSettled(runs);
      expect(settled.filter((s) => s.status === 'rejected')).toEqual([]);
      const joined = (await processes[0]!.store.readStream(STREAM)).filter((e) => e.type === 'MemberJoinedOrg');
      expect(joined).toHaveLength(120);
    });
  }, 60_000);

  describe('a process whose cached state another process has moved on', () => {
    const types = async (process: Process): Promise<string[]> => (await process.store.readStream(STREAM)).slice(1).map((e) => e.type);

    it('appends what the stored state calls for, not what its cache would', async () => {
      await withProcesses(2, async ([a, b]) => {
        await a!.run(joining('alice'));
        await b!.run({ type: 'RemoveMember', userId: 'alice', actor: platform });
        // The cache still has alice as a member, where a role change would do; she has left.
        const outcome = await a!.run({ type: 'SetMember', userId: 'alice', role: 'admin', actor: platform });
        expect(outcome.events).toEqual([expect.objectContaining({ type: 'MemberJoinedOrg', data: expect.objectContaining({ userId: 'alice', role: 'admin' }) })]);
        expect(await types(a!)).toEqual(['MemberJoinedOrg', 'MemberLeftOrg', 'MemberJoinedOrg']);
      });
    });

    it('does not answer "nothing to do" from its cache', async () => {
      await withProcesses(2, async ([a, b]) => {
        await a!.run({ type: 'SetMember', userId: 'bob', role: 'admin', actor: platform });
        await a!.run(joining('alice'));
        await b!.run({ type: 'SetMember', userId: 'alice', role: 'admin', actor: platform });
        // In the cache alice is a member already.
        const outcome = await a!.run(joining('alice'));
        expect(outcome.events).toEqual([{ type: 'MemberRoleChanged', data: { userId: 'alice', from: 'admin', to: 'member' } }]);
        expect(outcome.revision).toBe(4);
      });
    });

    it('does not refuse from its cache what the stored state allows', async () => {
      await withProcesses(2, async ([a, b]) => {
        await a!.run({ type: 'SetMember', userId: 'alice', role: 'admin', actor: platform });
        await b!.run({ type: 'SetMember', userId: 'bob', role: 'admin', actor: platform });
        // In the cache alice is the last admin; bob is an admin too by now.
        const outcome = await a!.run({ type: 'SetMember', userId: 'alice', role: 'member', actor: platform });
        expect(outcome.events).toEqual([{ type: 'MemberRoleChanged', data: { userId: 'alice', from: 'admin', to: 'member' } }]);
      });
    });
  });

  describe('the next command decided on the state an append in flight would leave', () => {
    it('is appended before the earlier append has committed, right after its last event, in arrival order', async () => {
      await withProcesses(1, async ([process]) => {
        const store = process!.store;
        const log: string[] = [];
        const logging = Object.create(store) as SqliteEventStore;
        logging.append = (stream, events, expected, options) => {
          const name = (events[0]!.data as { userId: string }).userId;
          log.push(`${name} appended${options?.expectedLastEventId ? ' after the last' : ''}`);
          return store.append(stream, events, expected, options).finally(() => log.push(`${name} committed`));
        };
        const run = (userId: string) => handleCommand(logging, organisationDecider, STREAM, joining(userId), context(), process!.cache);
        await run('warm');
        log.length = 0;

        const outcomes = await Promise.all(['u1', 'u2', 'u3'].map(run));

        expect(outcomes.map((o) => o.revision)).toEqual([2, 3, 4]);
        expect(log).toEqual(expect.arrayContaining(['u2 appended after the last', 'u3 appended after the last']));
        expect(log.indexOf('u2 appended after the last')).toBeLessThan(log.indexOf('u1 committed'));
        expect(log.indexOf('u3 appended after the last')).toBeLessThan(log.indexOf('u2 committed'));
        const joined = (await store.readStream(STREAM)).filter((e) => e.type === 'MemberJoinedOrg');
        expect(joined.map((e) => (e.data as { userId: string }).userId)).toEqual(['warm', 'u1', 'u2', 'u3']);
      });
    });

    it('is decided again on what is stored, after the earlier one, when the earlier append fails: never on a stranger at the same revision', async () => {
      await withProcesses(2, async ([a, b]) => {
        await a!.run(joining('u0'));
        await b!.run(joining('elsewhere'));
        // a's cache misses b's join: u1's append fails there, and u2's, chained after u1's, must
        // not land on b's event, which sits at the revision u2 expects.
        const outcomes = await Promise.all([a!.run(joining('u1')), a!.run(joining('u2'))]);
        expect(outcomes.map((o) => o.revision)).toEqual([3, 4]);
        const stored = await a!.store.readStream(STREAM);
        expect(stored.filter((e) => e.type === 'MemberJoinedOrg').map((e) => (e.data as { userId: string }).userId)).toEqual(['u0', 'elsewhere', 'u1', 'u2']);
        stored.slice(1).forEach((event, i) => expect(event.metadata.prevHash).toBe(stored[i]!.metadata.hash));
      });
    });

    it('is not refused on that state: a refusal waits for the earlier command and is decided on what is stored', async () => {
      await withProcesses(2, async ([a, b]) => {
        await a!.run({ type: 'SetMember', userId: 'alice', role: 'admin', actor: platform });
        await a!.run({ type: 'SetMember', userId: 'bob', role: 'admin', actor: platform });
        await b!.run({ type: 'SetMember', userId: 'carol', role: 'admin', actor: platform });
        // In a's cache alice and bob are the admins: once alice is demoted, bob would be the last.
        // Carol is an admin too, so both demotions are allowed.
        const outcomes = await Promise.all([
          a!.run({ type: 'SetMember', userId: 'alice', role: 'member', actor: platform }),
          a!.run({ type: 'SetMember', userId: 'bob', role: 'member', actor: platform }),
        ]);
        expect(outcomes.map((o) => o.events)).toEqual([
          [{ type: 'MemberRoleChanged', data: { userId: 'alice', from: 'admin', to: 'member' } }],
          [{ type: 'MemberRoleChanged', data: { userId: 'bob', from: 'admin', to: 'member' } }],
        ]);
      });
    });
  });

  it('keeps decider invariants across processes: the last admin is never lost to concurrent demotions', async () => {
    await withProcesses(2, async ([a, b]) => {
      await a!.run({ type: 'SetMember', userId: 'alice', role: 'admin', actor: platform });
      await a!.run({ type: 'SetMember', userId: 'bob', role: 'admin', actor: platform });
      const results = await Promise.allSettled([
        a!.run({ type: 'SetMember', userId: 'alice', role: 'member', actor: platform }),
        b!.run({ type: 'SetMember', userId: 'bob', role: 'member', actor: platform }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(rejected.reason).toMatchObject({ code: 'last_admin' });
    });
  });
});

describe('conflictBackoffMs', () => {
  it('waits a random share of an exponentially growing, capped ceiling', () => {
    expect(conflictBackoffMs(1, () => 0)).toBe(0);
    expect(conflictBackoffMs(1, () => 0.999)).toBeLessThan(10);
    expect(conflictBackoffMs(4, () => 0.999)).toBe(79);
    expect(conflictBackoffMs(40, () => 0.999)).toBe(499);
    const waits = Array.from({ length: 100 }, () => conflictBackoffMs(5));
    expect(new Set(waits).size).toBeGreaterThan(10);
    expect(Math.max(...waits)).toBeLessThan(160);
  });
});
