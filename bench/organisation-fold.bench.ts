import { organisationDecider, type OrganisationState } from '../src/organisations/organisation.decider.js';
import type { OrganisationEvent } from '../src/organisations/organisation.events.js';

export interface OrganisationFoldResult {
  /** Folding the whole history of an organisation with this many members, as a cold command does. */
  readonly foldMs: number;
  /** One more member joining once it has this many, as every cached command does. */
  readonly joinUs: number;
}

const joined = (i: number): OrganisationEvent => ({ type: 'MemberJoinedOrg', data: { userId: `user-${i}`, role: 'member', graceFrom: '2026-12-01T00:00:00.000Z' } }) as OrganisationEvent;

/**
 * The organisation decider's fold, in process: the first command on an organisation not in the
 * command handler's cache replays its stream, and each command after evolves the cached state by
 * its events. Median of three folds; the join is the mean over 1,000 joins after `members`.
 */
export function organisationFoldBench(members: number): OrganisationFoldResult {
  const history = [{ type: 'OrganisationRegistered', data: { orgId: 'big', name: 'Big' } } as OrganisationEvent, ...Array.from({ length: members }, (_, i) => joined(i))];
  const folds: number[] = [];
  let state: OrganisationState = organisationDecider.initialState;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    state = history.reduce(organisationDecider.evolve, organisationDecider.initialState);
    folds.push(performance.now() - started);
  }
  const joins = 1_000;
  const started = performance.now();
  for (let i = 0; i < joins; i++) organisationDecider.evolve(state, joined(members + i));
  const joinUs = ((performance.now() - started) * 1_000) / joins;
  folds.sort((a, b) => a - b);
  return { foldMs: Math.round(folds[1]! * 10) / 10, joinUs: Math.round(joinUs * 10) / 10 };
}
