import type { Decider } from '../kernel/decider.js';
import { isDomainError, type DomainError } from '../kernel/domain-error.js';
import type { Actor, DomainEvent, NewEvent, RecordedEvent } from '../kernel/event-envelope.js';
import { derivedEventId } from '../kernel/ids.js';
import type { PendingSnapshot, StreamSnapshot, StreamStateCache } from './stream-state.cache.js';
import { StreamCommandQueue, type Turn } from './stream-command.queue.js';
import {
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
} from '../ports/event-store.port.js';

export const SCHEMA_VERSION = 1;

/** Who asks, when, and under which id; the same commandId on a retry yields the same event ids. */
export interface CommandContext {
  readonly commandId: string;
  readonly actor: Actor;
  readonly correlationId: string;
  readonly causationId?: string;
  readonly now: Date;
}

export interface CommandOutcome<E extends DomainEvent> {
  readonly events: readonly E[];
  /** Last revision of the stream after the command; -1 when the stream is still empty. */
  readonly revision: number;
  /** Global position of the stream's last event; null when the stream is still empty. */
  readonly position: string | null;
  /** When the events were first recorded, if this outcome is a retry answered from them; absent when decided now. */
  readonly recordedAt?: string;
}

export class CommandRetriesExhaustedError extends Error {
  override readonly name = 'CommandRetriesExhaustedError';
}

/**
 * Conflicts left after the per-stream queue come from other processes appending to the same stream.
 * They are retried after a jittered, exponentially growing pause (full jitter: a random wait up to
 * min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2^(attempt-1))), so competing processes spread out instead of
 * colliding again in lockstep. Bounded: at most about two seconds of waiting in all.
 */
const MAX_ATTEMPTS = 10;
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 500;

export function conflictBackoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(attempt - 1, 16));
  return Math.floor(random() * ceiling);
}

/** One queue per store: a process's commands on one stream run in order instead of racing. */
const queues = new WeakMap<EventStore, StreamCommandQueue>();

function queueFor(store: EventStore): StreamCommandQueue {
  let queue = queues.get(store);
  if (!queue) {
    queue = new StreamCommandQueue();
    queues.set(store, queue);
  }
  return queue;
}

/**
 * `command` may be built from the current state (e.g. a code checked against the secret in that
 * state); it is then rebuilt on every attempt, so a retry never decides on a stale check.
 */
export type CommandSource<C, S> = C | { readonly fromState: (state: S) => C | Promise<C> };

/**
 * Load → fold → decide → append with the revision the decision was based on. Commands on one stream
 * in this process are decided one at a time, in arrival order; a writer in another process can
 * still make the append fail, and we then decide again on fresh state after a backoff, so
 * invariants checked by the decider (replayed TOTP step, last admin) hold under concurrency.
 *
 * With a state cache, the next command does not wait for this one's commit (an fsync, a few ms
 * under load, during which commands on a busy stream would queue): it is decided on the state this
 * append would leave and appended right after its last event, so both may share one group commit.
 * Only an append can be answered that way, and only once it is committed, which needs the earlier
 * one committed first. A refusal, nothing to do, or an earlier append that failed sends the
 * command down the ordinary path once every earlier command has settled.
 */
export function handleCommand<C, S, E extends DomainEvent>(
  store: EventStore,
  decider: Decider<C, S, E>,
  stream: string,
  source: CommandSource<C, S>,
  context: CommandContext,
  cache?: StreamStateCache<S>,
): Promise<CommandOutcome<E>> {
  const command: StreamCommand<C, S, E> = { store, decider, stream, source, context };
  return queueFor(store).run(stream, async (turn) => {
    const pending = cache?.pendingFrom(stream, turn.tip);
    const pipelined = pending && (await appendAfterPending(command, cache!, turn, pending));
    if (pipelined) return pipelined;
    await turn.previousSettled;
    return decideAndAppend(command, cache, turn);
  });
}

/** One command on one stream, as handleCommand was given it. */
interface StreamCommand<C, S, E extends DomainEvent> {
  readonly store: EventStore;
  readonly decider: Decider<C, S, E>;
  readonly stream: string;
  readonly source: CommandSource<C, S>;
  readonly context: CommandContext;
}

/**
 * The command decided on the state the previous command's append, still in flight, would leave,
 * and appended only right after that append's last event; null for anything this path does not
 * answer: a retried command, a refusal or nothing to do (never answered from a state not yet
 * stored), or the previous append failing (this one then fails too, as the store finds another
 * last event).
 */
async function appendAfterPending<C, S, E extends DomainEvent>(
  { store, decider, stream, source, context }: StreamCommand<C, S, E>,
  cache: StreamStateCache<S>,
  turn: Turn,
  pending: PendingSnapshot<S>,
): Promise<CommandOutcome<E> | null> {
  const firstId = derivedEventId(context.commandId, 0);
  if (pending.eventIds.has(firstId) || pending.pendingIds.includes(firstId)) return null;
  let decision: readonly E[] | DomainError;
  try {
    decision = decider.decide(isStateBuilt(source) ? await source.fromState(pending.state) : source, pending.state);
  } catch {
    // A lookup that refused or failed is made again on the ordinary path, on a settled state.
    return null;
  }
  if (isDomainError(decision) || decision.length === 0) return null;
  const events = toNewEvents(decision, context);
  const state = decision.reduce(decider.evolve, pending.state);
  handOver(turn, cache, stream, { state, revision: pending.revision + events.length, events, eventIds: pending.eventIds, pendingIds: pending.pendingIds });
  try {
    const result = await store.append(stream, events, pending.revision, { expectedLastEventId: pending.lastEventId });
    return committed(cache, stream, state, result, events, pending.eventIds, decision);
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return null;
    throw error;
  }
}

/** Lets the next command on the stream start on the state this append will leave. */
function handOver<S>(
  turn: Turn,
  cache: StreamStateCache<S> | undefined,
  stream: string,
  after: { readonly state: S; readonly revision: number; readonly events: readonly NewEvent[]; readonly eventIds: Set<string>; readonly pendingIds: readonly string[] },
): void {
  if (!cache) return;
  const ids = after.events.map((event) => event.metadata.eventId);
  turn.handOver(cache.tip(stream, { state: after.state, revision: after.revision, lastEventId: ids.at(-1)!, eventIds: after.eventIds, pendingIds: [...after.pendingIds, ...ids] }));
}

/** The outcome of a committed append, its state kept for the next command. */
function committed<S, E extends DomainEvent>(
  cache: StreamStateCache<S> | undefined,
  stream: string,
  state: S,
  result: AppendResult,
  events: readonly NewEvent[],
  eventIds: Set<string>,
  decision: readonly E[],
): CommandOutcome<E> {
  for (const event of events) eventIds.add(event.metadata.eventId);
  cache?.set(stream, { state, revision: result.nextRevision, position: result.position, eventIds });
  return { events: decision, revision: result.nextRevision, position: result.position };
}

async function decideAndAppend<C, S, E extends DomainEvent>(
  { store, decider, stream, source, context }: StreamCommand<C, S, E>,
  cache: StreamStateCache<S> | undefined,
  turn: Turn,
): Promise<CommandOutcome<E>> {
  const firstId = derivedEventId(context.commandId, 0);
  // The first decision may rest on the cached state alone: an append only commits at the revision
  // it was decided on, so a state that another process has moved on fails there and is read again.
  // A refusal or a decision to do nothing is never answered from an unread state.
  let unread = cache?.get(stream);
  for (let attempt = 1; ; ) {
    const loaded = unread ?? (await load(store, decider, stream, cache));
    if (loaded.eventIds.has(firstId)) {
      const previous = findPreviousOutcome<E>(await store.readStream(stream), firstId, context.commandId);
      if (previous) return previous;
    }
    const command = isStateBuilt(source) ? await source.fromState(loaded.state) : source;
    const decision = decider.decide(command, loaded.state);
    if (unread && (isDomainError(decision) || decision.length === 0)) {
      unread = undefined;
      continue;
    }
    if (isDomainError(decision)) throw decision;
    if (decision.length === 0) return { events: [], revision: loaded.revision, position: loaded.position };
    const events = toNewEvents(decision, context);
    const state = decision.reduce(decider.evolve, loaded.state);
    handOver(turn, cache, stream, { state, revision: loaded.revision + events.length, events, eventIds: loaded.eventIds, pendingIds: [] });
    try {
      const result = await store.append(stream, events, loaded.revision < 0 ? 'no_stream' : loaded.revision);
      return committed(cache, stream, state, result, events, loaded.eventIds, decision);
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      // An unread state that turned out stale is no race with another writer: read it, no backoff.
      if (unread) {
        unread = undefined;
        continue;
      }
      if (attempt >= MAX_ATTEMPTS) throw new CommandRetriesExhaustedError(`stream ${stream} kept changing`);
      await sleep(conflictBackoffMs(attempt++));
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The stream's state now: from the cached snapshot plus whatever was appended since, or from scratch. */
async function load<C, S, E extends DomainEvent>(store: EventStore, decider: Decider<C, S, E>, stream: string, cache: StreamStateCache<S> | undefined): Promise<StreamSnapshot<S>> {
  const cached = cache?.get(stream);
  const newer = await store.readStream(stream, cached ? { fromRevision: cached.revision + 1 } : {});
  const eventIds = cached?.eventIds ?? new Set<string>();
  for (const event of newer) eventIds.add(event.metadata.eventId);
  const last = newer.at(-1);
  const snapshot: StreamSnapshot<S> = {
    state: newer.reduce((s, e) => decider.evolve(s, e as unknown as E), cached?.state ?? decider.initialState),
    revision: last?.revision ?? cached?.revision ?? -1,
    position: last?.position ?? cached?.position ?? null,
    eventIds,
  };
  cache?.set(stream, snapshot);
  return snapshot;
}

function isStateBuilt<C, S>(source: CommandSource<C, S>): source is { readonly fromState: (state: S) => C | Promise<C> } {
  return typeof source === 'object' && source !== null && 'fromState' in source;
}

/**
 * A retried command whose first attempt was stored answers with what it stored, not twice.
 * One command's events are appended together, so they sit contiguously with derived ids 0..n-1.
 */
function findPreviousOutcome<E extends DomainEvent>(
  history: readonly RecordedEvent[],
  firstId: string,
  commandId: string,
): CommandOutcome<E> | null {
  const start = history.findIndex((e) => e.metadata.eventId === firstId);
  if (start < 0) return null;
  let end = start + 1;
  while (end < history.length && history[end]!.metadata.eventId === derivedEventId(commandId, end - start)) end++;
  const stored = history.slice(start, end);
  const lastStored = stored.at(-1)!;
  return {
    events: stored.map((e) => ({ type: e.type, data: e.data }) as unknown as E),
    revision: lastStored.revision,
    position: lastStored.position,
    recordedAt: stored[0]!.metadata.occurredAt,
  };
}

export function toNewEvents(events: readonly DomainEvent[], context: CommandContext): NewEvent[] {
  return events.map((event, index) => ({
    type: event.type,
    data: event.data,
    metadata: {
      eventId: derivedEventId(context.commandId, index),
      occurredAt: context.now.toISOString(),
      actor: context.actor,
      correlationId: context.correlationId,
      causationId: context.causationId ?? context.commandId,
      schemaVersion: SCHEMA_VERSION,
    },
  }));
}

export type { DomainError };
