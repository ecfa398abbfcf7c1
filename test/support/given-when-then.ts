import { expect } from '@jest/globals';
import { fold, type Decider } from '../../src/kernel/decider.js';
import { isDomainError, type DomainError, type DomainErrorKind } from '../../src/kernel/domain-error.js';
import type { DomainEvent } from '../../src/kernel/event-envelope.js';

export interface ExpectedError {
  readonly kind: DomainErrorKind;
  readonly code: string;
}

export interface Then<S, E extends DomainEvent> {
  /** What decide() returned, for assertions the helpers below do not cover. */
  readonly result: readonly E[] | DomainError;
  /** Asserts exactly these events, in order. */
  thenEvents(expected: readonly E[]): void;
  /** Asserts success without events (an idempotent repeat). */
  thenNothingHappens(): void;
  /** Asserts a refusal with this kind and stable code; returns it for message checks. */
  thenError(expected: ExpectedError): DomainError;
  /** The state after the history and the decided events; fails if the command was refused. */
  stateAfter(): S;
}

export interface When<C, S, E extends DomainEvent> {
  readonly state: S;
  when(command: C): Then<S, E>;
}

/**
 * Given-when-then for any pure decider: folds the history, decides the command, and checks the
 * decision. Emitted events must survive a JSON round trip, because that is how every store keeps them.
 */
export function given<C, S, E extends DomainEvent>(decider: Decider<C, S, E>, history: readonly E[] = []): When<C, S, E> {
  const state = fold(decider, history);
  return {
    state,
    when: (command) => outcome(decider, state, decider.decide(command, state)),
  };
}

function outcome<C, S, E extends DomainEvent>(
  decider: Decider<C, S, E>,
  state: S,
  result: readonly E[] | DomainError,
): Then<S, E> {
  const events = (): readonly E[] => {
    if (isDomainError(result)) throw new Error(`expected events, got ${result.kind} error ${result.code}: ${result.message}`);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    return result;
  };
  return {
    result,
    thenEvents: (expected) => expect(events()).toEqual(expected),
    thenNothingHappens: () => expect(events()).toEqual([]),
    thenError: (expected) => {
      if (!isDomainError(result)) throw new Error(`expected a ${expected.kind} error, got events ${JSON.stringify(result)}`);
      expect({ kind: result.kind, code: result.code }).toEqual(expected);
      return result;
    },
    stateAfter: () => events().reduce((s, e) => decider.evolve(s, e), state),
  };
}
