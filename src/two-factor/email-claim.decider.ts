import type { Decider } from '../kernel/decider.js';
import { DomainError } from '../kernel/domain-error.js';
import type { DomainEvent } from '../kernel/event-envelope.js';

/*
 * One live user per e-mail address. The stream `email-<blind index>` records who holds an
 * address; the blind index is a keyed hash, so the store never learns the address. Uniqueness
 * comes from the event store's expected-revision check: two registrations racing for one address
 * append to the same stream, and the loser decides again on the winner's claim.
 */

export type EmailClaimed = DomainEvent<'EmailClaimed', { userId: string; claimedAt: string }>;
export type EmailReleased = DomainEvent<'EmailReleased', { userId: string }>;
export type EmailClaimEvent = EmailClaimed | EmailReleased;

/** What the holder's own stream says about them, read when the claim is decided. */
export type HolderStatus = 'registered' | 'forgotten' | 'unregistered';

export interface ClaimEmail {
  readonly type: 'ClaimEmail';
  readonly userId: string;
  /** Null when nobody holds the address. */
  readonly holderStatus: HolderStatus | null;
  readonly at: string;
}

/** Gives the address back after a registration that claimed it failed; only its holder can. */
export interface ReleaseEmail {
  readonly type: 'ReleaseEmail';
  readonly userId: string;
}

export type EmailClaimCommand = ClaimEmail | ReleaseEmail;

export interface EmailClaimState {
  readonly holder: { readonly userId: string; readonly claimedAt: string } | null;
}

/**
 * A claim whose user never got registered (the process stopped between claim and registration)
 * must not block the address for ever; one younger than this may still be a registration in flight.
 */
export const IN_FLIGHT_CLAIM_MS = 60_000;

export function emailClaimStream(blindIndex: string): string {
  return `email-${blindIndex}`;
}

/** The form the blind index is computed over: surrounding spaces and letter case do not make a new address. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const emailClaimDecider: Decider<EmailClaimCommand, EmailClaimState, EmailClaimEvent> = {
  initialState: { holder: null },
  decide(command, state) {
    return command.type === 'ClaimEmail' ? claim(command, state) : release(command, state);
  },
  evolve(state, event) {
    return event.type === 'EmailClaimed' ? { holder: { userId: event.data.userId, claimedAt: event.data.claimedAt } } : { holder: null };
  },
};

function claim(command: ClaimEmail, state: EmailClaimState): readonly EmailClaimEvent[] | DomainError {
  const holder = state.holder;
  if (holder?.userId === command.userId) return [];
  if (holder !== null && holderKeepsAddress(command, holder.claimedAt)) {
    return new DomainError('conflict', 'email_in_use', 'Another user is registered with this e-mail address');
  }
  return [{ type: 'EmailClaimed', data: { userId: command.userId, claimedAt: command.at } }];
}

function holderKeepsAddress(command: ClaimEmail, claimedAt: string): boolean {
  switch (command.holderStatus) {
    case 'registered':
      return true;
    case 'unregistered':
      return Date.parse(command.at) - Date.parse(claimedAt) < IN_FLIGHT_CLAIM_MS;
    default:
      return false;
  }
}

function release(command: ReleaseEmail, state: EmailClaimState): readonly EmailClaimEvent[] {
  return state.holder?.userId === command.userId ? [{ type: 'EmailReleased', data: { userId: command.userId } }] : [];
}
