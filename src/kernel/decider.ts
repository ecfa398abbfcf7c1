import type { DomainEvent } from './event-envelope.js';
import type { DomainError } from './domain-error.js';

/**
 * A pure decider: no clock, no randomness, no I/O. Time and ids arrive as command fields so a
 * replay of the same history with the same command always yields the same events.
 */
export interface Decider<Command, State, Event extends DomainEvent> {
  readonly initialState: State;
  decide(command: Command, state: State): readonly Event[] | DomainError;
  evolve(state: State, event: Event): State;
}

export function fold<State, Event extends DomainEvent>(
  decider: Pick<Decider<unknown, State, Event>, 'initialState' | 'evolve'>,
  events: readonly Event[],
): State {
  return events.reduce((state, event) => decider.evolve(state, event), decider.initialState);
}
