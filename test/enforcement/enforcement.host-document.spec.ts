import fc from 'fast-check';
import { decideEnforcement } from '../../src/enforcement/enforcement.decision.js';
import { hostDocument } from '../../src/enforcement/enforcement.host-document.js';
import { membershipKey, type EnforcementDoc } from '../../src/enforcement/enforcement.projection.js';

const PAGE = 'https://app.example/settings/2fa';
const NOW = new Date('2026-03-02T09:00:00.000Z');
const HOUR = 3_600_000;
const at = (hours: number): string => new Date(NOW.getTime() + hours * HOUR).toISOString();

/** Memberships with every time-bound part of policy (DESIGN §9), around NOW. */
const membership = fc.record({
  orgId: fc.constantFrom('a', 'b', 'c'),
  mode: fc.constantFrom('off' as const, 'soft' as const, 'hard' as const),
  xeroConnected: fc.boolean(),
  hardFrom: fc.option(fc.integer({ min: -48, max: 48 }).map(at), { nil: null }),
  graceFrom: fc.option(fc.integer({ min: -96, max: 0 }).map(at), { nil: null }),
  graceDays: fc.integer({ min: 0, max: 3 }),
  exemptUntil: fc.option(fc.integer({ min: -48, max: 48 }).map(at), { nil: null }),
});
type Membership = typeof membership extends fc.Arbitrary<infer M> ? M : never;
const docOf = (memberships: readonly Membership[], twoFactorEnabled: boolean): EnforcementDoc => ({
  id: 'u1',
  twoFactorEnabled,
  forgotten: false,
  orgs: Object.fromEntries(memberships.map((m) => [membershipKey(m.orgId), { ...m, hardFrom: m.mode === 'soft' ? m.hardFrom : null }])),
});

describe('the host decision document', () => {
  it('answers what the decision answers, without and with each organisation, unchanged until validUntil', () => {
    fc.assert(
      fc.property(fc.uniqueArray(membership, { selector: (m) => m.orgId, maxLength: 3 }), fc.boolean(), fc.integer({ min: 0, max: 1_000 }), (memberships, twoFactorEnabled, fraction) => {
        const doc = docOf(memberships, twoFactorEnabled);
        const hostDoc = hostDocument('u1', doc, '42', PAGE, NOW);
        const stored = Object.values(doc.orgs);
        const decisionsAt = (when: Date) => ({
          all: decideEnforcement(stored, twoFactorEnabled, PAGE, when),
          orgs: stored.map((m) => ({ orgId: m.orgId, decision: decideEnforcement([m], twoFactorEnabled, PAGE, when) })).sort((x, y) => (x.orgId < y.orgId ? -1 : 1)),
        });
        expect({ all: hostDoc.decision, orgs: hostDoc.orgs }).toEqual(decisionsAt(NOW));
        // Any instant before validUntil (or within two days when nothing is due) gives the same answers.
        const until = hostDoc.validUntil === null ? NOW.getTime() + 48 * HOUR : Date.parse(hostDoc.validUntil);
        const later = new Date(NOW.getTime() + Math.floor(((until - 1 - NOW.getTime()) * fraction) / 1_000));
        expect(decisionsAt(later)).toEqual(decisionsAt(NOW));
      }),
      { numRuns: 500 },
    );
  });

  it('names the earliest instant at which time changes an answer', () => {
    const doc = docOf(
      [
        { orgId: 'a', mode: 'soft', xeroConnected: false, hardFrom: at(30), graceFrom: null, graceDays: 0, exemptUntil: null },
        { orgId: 'b', mode: 'hard', xeroConnected: false, hardFrom: null, graceFrom: at(-1), graceDays: 1, exemptUntil: at(12) },
      ],
      false,
    );
    expect(hostDocument('u1', doc, '42', PAGE, NOW).validUntil).toBe(at(12));
  });

  it('is not found for a forgotten or unknown user, as the decision answers 404', () => {
    expect(hostDocument('u1', null, '0', PAGE, NOW)).toEqual({ userId: 'u1', position: '0', found: false, decision: null, orgs: [], validUntil: null });
    expect(hostDocument('u1', { ...docOf([], false), forgotten: true }, '7', PAGE, NOW)).toMatchObject({ found: false, decision: null });
  });
});
