import { describe, expect, it } from '@jest/globals';
import { emailClaimDecider, IN_FLIGHT_CLAIM_MS, normaliseEmail, type EmailClaimEvent, type HolderStatus } from '../../src/two-factor/email-claim.decider.js';
import { given as givenFor } from '../support/given-when-then.js';

const T0 = '2026-01-05T09:00:00.000Z';
const given = (history: EmailClaimEvent[] = []) => givenFor(emailClaimDecider, history);
const claimedBy = (userId: string, claimedAt = T0): EmailClaimEvent => ({ type: 'EmailClaimed', data: { userId, claimedAt } });
const claim = (userId: string, holderStatus: HolderStatus | null, at = T0) => ({ type: 'ClaimEmail' as const, userId, holderStatus, at });
const later = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();

describe('email claim decider', () => {
  it('gives a free address to the first user who claims it', () => {
    given().when(claim('ada', null)).thenEvents([claimedBy('ada')]);
  });

  it('refuses the address of a registered user to anyone else (409 email_in_use)', () => {
    given([claimedBy('ada')]).when(claim('bob', 'registered', later(3_600_000))).thenError({ kind: 'conflict', code: 'email_in_use' });
  });

  it('is idempotent for the holder', () => {
    given([claimedBy('ada')]).when(claim('ada', 'registered')).thenNothingHappens();
  });

  it('frees the address of a forgotten user', () => {
    given([claimedBy('ada')]).when(claim('bob', 'forgotten', later(1))).thenEvents([claimedBy('bob', later(1))]);
  });

  it('holds a claim whose registration is in flight, and frees it once it is clearly abandoned', () => {
    given([claimedBy('ada')]).when(claim('bob', 'unregistered', later(IN_FLIGHT_CLAIM_MS - 1))).thenError({ kind: 'conflict', code: 'email_in_use' });
    given([claimedBy('ada')]).when(claim('bob', 'unregistered', later(IN_FLIGHT_CLAIM_MS))).thenEvents([claimedBy('bob', later(IN_FLIGHT_CLAIM_MS))]);
  });

  it('lets only the holder release the address', () => {
    given([claimedBy('ada')]).when({ type: 'ReleaseEmail', userId: 'bob' }).thenNothingHappens();
    const released = given([claimedBy('ada')]).when({ type: 'ReleaseEmail', userId: 'ada' });
    released.thenEvents([{ type: 'EmailReleased', data: { userId: 'ada' } }]);
    given([claimedBy('ada'), { type: 'EmailReleased', data: { userId: 'ada' } }]).when(claim('bob', null)).thenEvents([claimedBy('bob')]);
  });

  it('normalises case and surrounding spaces only', () => {
    expect(normaliseEmail('  Ada.Lovelace@Example.TEST ')).toBe('ada.lovelace@example.test');
    expect(normaliseEmail('ada+x@example.test')).toBe('ada+x@example.test');
  });
});
