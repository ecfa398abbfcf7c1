import { describe, expect, it } from '@jest/globals';
import { periodStart, nextPeriodStart } from '../../src/reminders/admin-digest.period.js';
import { isFreshCause, noticeFor, untoldCauseBefore, type CausedEvent } from '../../src/reminders/notice.policy.js';
import type { UserEvent } from '../../src/two-factor/user.events.js';

const T0 = Date.parse('2026-03-02T10:00:00.000Z');
const email = { keyId: 'k', iv: 'i', ciphertext: 'c', tag: 't' };
const hashes = (set: string) => Array.from({ length: 10 }, (_, i) => `h-${set}-${i}`);

/** A history whose event ids are e0, e1, … and whose events happen a minute apart. */
function history(events: readonly UserEvent[]): CausedEvent[] {
  return events.map((event, i) => ({ ...event, metadata: { eventId: `e${i}`, occurredAt: new Date(T0 + i * 60_000).toISOString() } }));
}

const enabled: UserEvent[] = [
  { type: 'UserRegistered', data: { userId: 'u1', email } },
  { type: 'TwoFactorSetupStarted', data: { secret: email, expiresAt: new Date(T0 + 600_000).toISOString() } },
  { type: 'TwoFactorEnabled', data: { timeStep: 100 } },
  { type: 'BackupCodesGenerated', data: { hashes: hashes('a'), timeStep: 100 } },
];
const uses = (from: number, count: number): UserEvent[] => Array.from({ length: count }, (_, i) => ({ type: 'BackupCodeUsed', data: { index: from + i } }));
const kinds = (events: readonly UserEvent[]) => {
  const h = history(events);
  return h.map((e) => noticeFor(h, e.metadata.eventId)?.kind ?? null);
};

describe('which notice an event calls for', () => {
  it('tells enabling once: the first set of backup codes belongs to it', () => {
    expect(kinds(enabled)).toEqual([null, null, 'two_factor_enabled', null]);
  });

  it('warns once per set when a use leaves two or fewer codes, and again for a regenerated set', () => {
    const events: UserEvent[] = [...enabled, ...uses(0, 10), { type: 'BackupCodesGenerated', data: { hashes: hashes('b'), timeStep: 101 } }, ...uses(0, 9)];
    const h = history(events);
    const low = h.map((e, i) => ({ i, notice: noticeFor(h, e.metadata.eventId) })).filter((x) => x.notice?.kind === 'backup_codes_low');
    // Index 4 is the first use: the eighth use (index 11) leaves 2; the set regenerated at 14; its eighth use is 22.
    expect(low.map((x) => x.i)).toEqual([11, 22]);
    expect(low[0]!.notice).toMatchObject({ backupCodesLeft: 2, at: h[11]!.metadata.occurredAt, tellAdmins: false });
    expect(noticeFor(h, 'e14')?.kind).toBe('backup_codes_regenerated');
  });

  it('tells a reset to the admins too, a lockout with its end, and nothing for an unknown cause', () => {
    const until = new Date(T0 + 1_800_000).toISOString();
    const events: UserEvent[] = [...enabled, { type: 'TwoFactorLockedOut', data: { until } }, { type: 'TwoFactorReset', data: { reason: 'lost phone', by: 'agent' } }];
    const h = history(events);
    expect(noticeFor(h, 'e4')).toMatchObject({ kind: 'verification_locked', lockedUntil: until, tellAdmins: false });
    expect(noticeFor(h, 'e5')).toMatchObject({ kind: 'two_factor_reset', tellAdmins: true });
    expect(noticeFor(h, 'nope')).toBeNull();
  });

  it('holds a notice back until the user has been told every earlier one that is still news', () => {
    const events: UserEvent[] = [...enabled, ...uses(0, 3), { type: 'TwoFactorDisabled', data: { timeStep: 101 } }];
    const h = history(events);
    const now = new Date(T0 + 3_600_000);
    const told = (ids: string[]) => (id: string) => ids.includes(id);
    // e2 enabled; e3 (the first set of codes) and three uses (e4-e6) call for nothing; e7 disabled.
    expect(untoldCauseBefore(h, 'e7', now, told([]))).toBe('e2');
    expect(untoldCauseBefore(h, 'e7', now, told(['e2']))).toBeNull();
    expect(untoldCauseBefore(h, 'e2', now, told([]))).toBeNull();
    // A cause too old to have had a job holds nothing back.
    const stale = h.map((e, i) => (i === 2 ? { ...e, metadata: { ...e.metadata, occurredAt: new Date(T0 - 4 * 86_400_000).toISOString() } } : e));
    expect(untoldCauseBefore(stale, 'e7', now, told([]))).toBeNull();
  });

  it('is news for three days only', () => {
    const at = new Date(T0).toISOString();
    expect(isFreshCause(at, new Date(T0 + 3 * 86_400_000))).toBe(true);
    expect(isFreshCause(at, new Date(T0 + 3 * 86_400_000 + 1))).toBe(false);
  });
});

describe('digest periods', () => {
  it('are weeks from Monday 00:00 UTC by default, and any interval from the same origin', () => {
    const WEEK = 7 * 86_400_000;
    // Wednesday 2 December 2026: the week began on Monday 30 November.
    expect(periodStart(new Date('2026-12-02T15:00:00Z'), WEEK).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(nextPeriodStart(new Date('2026-12-02T15:00:00Z'), WEEK).toISOString()).toBe('2026-12-07T00:00:00.000Z');
    expect(periodStart(new Date('2026-11-30T00:00:00Z'), WEEK).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(periodStart(new Date('2026-12-02T15:00:00Z'), 86_400_000).toISOString()).toBe('2026-12-02T00:00:00.000Z');
  });
});
