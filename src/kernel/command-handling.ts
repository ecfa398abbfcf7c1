import type { Decider } from './decider.js';
import { isDomainError, type DomainError } from './domain-error.js';
import type { Actor, DomainEvent, NewEvent, RecordedEvent } from './event-envelope.js';
import { derivedEventId } from './ids.js';
import {
  WrongExpectedRevisionError,
  type EventStore,
} from '../infrastructure/event-store/event-store.port.js';

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
}

export class CommandRetriesExhaustedError extends Error {
  override readonly name = 'CommandRetriesExhaustedError';
}

const MAX_ATTEMPTS = 5;

/**
 * Load → fold → decide → append with the revision the decision was based on. A concurrent writer
 * makes the append fail; we then decide again on fresh state, so invariants checked by the
 * decider (replayed TOTP step, last admin) hold under concurrency.
 */
/**
 * `command` may be built from the current state (e.g. a code checked against the secret in that
 * state); it is then rebuilt on every attempt, so a retry never decides on a stale check.
 */
export type CommandSource<C, S> = C | { readonly fromState: (state: S) => C | Promise<C> };

export async function handleCommand<C, S, E extends DomainEvent>(
  store: EventStore,
  decider: Decider<C, S, E>,
  stream: string,
  source: CommandSource<C, S>,
  context: CommandContext,
): Promise<CommandOutcome<E>> {
  for (let attempt = 1; ; attempt++) {
    const history = await store.readStream(stream);
    const previous = findPreviousOutcome<E>(history, context.commandId);
    if (previous) return previous;
    const state = history.reduce((s, e) => decider.evolve(s, e as unknown as E), decider.initialState);
    const command = isStateBuilt(source) ? await source.fromState(state) : source;
    const decision = decider.decide(command, state);
    if (isDomainError(decision)) throw decision;
    const last = history.at(-1);
    if (decision.length === 0) {
      return { events: [], revision: last?.revision ?? -1, position: last?.position ?? null };
    }
    try {
      const result = await store.append(stream, toNewEvents(decision, context), last?.revision ?? 'no_stream');
      return { events: decision, revision: result.nextRevision, position: result.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError)) throw error;
      if (attempt >= MAX_ATTEMPTS) throw new CommandRetriesExhaustedError(`stream ${stream} kept changing`);
    }
  }
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
  commandId: string,
): CommandOutcome<E> | null {
  const start = history.findIndex((e) => e.metadata.eventId === derivedEventId(commandId, 0));
  if (start < 0) return null;
  let end = start + 1;
  while (end < history.length && history[end]!.metadata.eventId === derivedEventId(commandId, end - start)) end++;
  const stored = history.slice(start, end);
  const lastStored = stored.at(-1)!;
  return {
    events: stored.map((e) => ({ type: e.type, data: e.data }) as unknown as E),
    revision: lastStored.revision,
    position: lastStored.position,
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
