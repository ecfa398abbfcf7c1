import type { Actor, RecordedEvent } from '../../src/kernel/event-envelope.js';
import { complianceReport } from '../../src/audit/compliance.report.js';
import { complianceCsv } from '../../src/audit/compliance.csv.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const at = (hours: number): string => new Date(T0 + hours * HOUR).toISOString();
const PLATFORM: Actor = { id: 'host-platform', roles: ['platform'] };
const ENCRYPTED = { keyId: 'k', iv: 'aaaaaaaaaaaaaaaa', ciphertext: 'AAAA', tag: 'aaaaaaaaaaaaaaaaaaaaaa==' };

let position = 0;
function event(stream: string, revision: number, hours: number, type: string, data: Record<string, unknown>, actor: Actor = PLATFORM): RecordedEvent {
  position += 1;
  return {
    stream,
    revision,
    position: String(position),
    type,
    data: data as RecordedEvent['data'],
    metadata: { eventId: `e${position}`, occurredAt: at(hours), actor, correlationId: 'c', causationId: 'c', schemaVersion: 1, prevHash: '', hash: '' },
  };
}

function history(stream: string, entries: Array<[hours: number, type: string, data: Record<string, unknown>, actor?: Actor]>): RecordedEvent[] {
  return entries.map(([hours, type, data, actor], revision) => event(stream, revision, hours, type, data, actor));
}

describe('compliance report', () => {
  const admin: Actor = { id: 'alice', roles: [] };
  // Org: registered at 0h, alice admin at 1h, bob at 2h, soft at 10h (by alice), hard at 20h, off at 30h; bob leaves at 40h.
  const org = history('organisation-acme', [
    [0, 'OrganisationRegistered', { orgId: 'acme', name: 'Acme' }],
    [1, 'MemberJoinedOrg', { userId: 'alice', role: 'admin' }],
    [2, 'MemberJoinedOrg', { userId: 'bob', role: 'member' }],
    [10, 'EnforcementModeChanged', { from: 'off', to: 'soft', reason: 'policy' }, admin],
    [20, 'EnforcementModeChanged', { from: 'soft', to: 'hard', reason: null }, admin],
    [30, 'EnforcementModeChanged', { from: 'hard', to: 'off', reason: null }],
    [35, 'EnforcementModeChanged', { from: 'off', to: 'soft', reason: null }],
    [40, 'MemberLeftOrg', { userId: 'bob' }],
  ]);
  // Alice enables 2FA at 15h; support resets it at 25h; she enables again at 27h.
  const alice = history('user-alice', [
    [0, 'UserRegistered', { userId: 'alice', email: ENCRYPTED }],
    [14, 'TwoFactorSetupStarted', { secret: ENCRYPTED, expiresAt: at(15) }],
    [15, 'TwoFactorEnabled', { timeStep: 1 }],
    [25, 'TwoFactorReset', { reason: 'lost phone', by: 'support-1' }],
    [26, 'TwoFactorSetupStarted', { secret: ENCRYPTED, expiresAt: at(27) }],
    [27, 'TwoFactorEnabled', { timeStep: 2 }],
  ]);
  // Bob never enables 2FA; reminded at 11h (acme), 21h (acme and another org) and 22h (another org only).
  const bob = history('user-bob', [
    [0, 'UserRegistered', { userId: 'bob', email: ENCRYPTED }],
    [11, 'ReminderSent', { orgIds: ['acme'], cadence: 'soft', messageId: 'm1', sentAt: at(11), periodKey: 'p1' }],
    [21, 'ReminderSent', { orgIds: ['acme', 'other'], cadence: 'hard', messageId: 'm2', sentAt: at(21), periodKey: 'p2' }],
    [22, 'ReminderSent', { orgIds: ['other'], cadence: 'hard', messageId: 'm3', sentAt: at(22), periodKey: 'p3' }],
  ]);
  const users = new Map([['alice', alice], ['bob', bob]]);

  it('counts each member’s time without 2FA while the organisation enforced, within the period', () => {
    const report = complianceReport('acme', org, users, { from: new Date(at(0)), to: new Date(at(48)), now: new Date(at(100)) });
    // Alice: enforced 10-30h and 35-48h; without 2FA 10-15h and 25-27h.
    // Bob: enforced 10-30h and 35-40h (he left at 40h); never had 2FA.
    expect(report.members).toEqual([
      { userId: 'alice', memberSeconds: 47 * 3600, withoutTwoFactorSeconds: 7 * 3600, exemptSeconds: 0, twoFactorEnabledAtEnd: true, reminders: [] },
      {
        userId: 'bob',
        memberSeconds: 38 * 3600,
        withoutTwoFactorSeconds: 25 * 3600,
        exemptSeconds: 0,
        twoFactorEnabledAtEnd: false,
        reminders: [
          { sentAt: at(11), cadence: 'soft', messageId: 'm1' },
          { sentAt: at(21), cadence: 'hard', messageId: 'm2' },
        ],
      },
    ]);
    expect(report.modeChanges).toEqual([
      { at: at(10), from: 'off', to: 'soft', reason: 'policy', actor: admin },
      { at: at(20), from: 'soft', to: 'hard', reason: null, actor: admin },
      { at: at(30), from: 'hard', to: 'off', reason: null, actor: PLATFORM },
      { at: at(35), from: 'off', to: 'soft', reason: null, actor: PLATFORM },
    ]);
  });

  it('clips every interval to the period and stops counting at now', () => {
    const report = complianceReport('acme', org, users, { from: new Date(at(12)), to: new Date(at(200)), now: new Date(at(38)) });
    expect(report.countedUntil).toBe(at(38));
    const byUser = Object.fromEntries(report.members.map((m) => [m.userId, m]));
    // Alice: 12-15h and 25-27h. Bob: 12-30h and 35-38h.
    expect(byUser['alice']!.withoutTwoFactorSeconds).toBe(5 * 3600);
    expect(byUser['bob']!.withoutTwoFactorSeconds).toBe(21 * 3600);
    expect(byUser['bob']!.reminders.map((r) => r.messageId)).toEqual(['m2']);
    expect(report.modeChanges.map((c) => c.at)).toEqual([at(20), at(30), at(35)]);
  });

  it('leaves out members who were not members during the period', () => {
    const report = complianceReport('acme', org, users, { from: new Date(at(41)), to: new Date(at(48)), now: new Date(at(100)) });
    expect(report.members.map((m) => m.userId)).toEqual(['alice']);
  });

  it('renders CSV with one row per member, reminder and mode change', () => {
    const report = complianceReport('acme', org, users, { from: new Date(at(0)), to: new Date(at(48)), now: new Date(at(100)) });
    const rows = complianceCsv(report).split('\r\n');
    expect(rows[0]).toBe('record,orgId,userId,memberSeconds,withoutTwoFactorSeconds,twoFactorEnabledAtEnd,at,cadence,from,to,actorId,actorRoles,reason,exemptSeconds,until');
    expect(rows.filter((row) => row.startsWith('member,'))).toEqual([
      `member,acme,alice,169200,25200,true,,,${at(0)},${at(48)},,,,0,`,
      `member,acme,bob,136800,90000,false,,,${at(0)},${at(48)},,,,0,`,
    ]);
    expect(rows.filter((row) => row.startsWith('reminder,'))).toHaveLength(2);
    expect(rows.filter((row) => row.startsWith('mode_change,'))[0]).toBe(`mode_change,acme,,,,,${at(10)},,off,soft,alice,,policy,,`);
  });

  describe('with exemptions', () => {
    const support: Actor = { id: 'agent', roles: ['support'] };
    const scheduler: Actor = { id: 'exemption-scheduler', roles: ['system'] };
    // Bob is exempt from 12h until 18h (expiry recorded late, at 19h), and again from 21h, revoked at 24h.
    const exemptOrg = history('organisation-acme', [
      [0, 'OrganisationRegistered', { orgId: 'acme', name: 'Acme' }],
      [1, 'MemberJoinedOrg', { userId: 'alice', role: 'admin' }],
      [2, 'MemberJoinedOrg', { userId: 'bob', role: 'member' }],
      [10, 'EnforcementModeChanged', { from: 'off', to: 'hard', reason: null }, admin],
      [12, 'MemberExempted', { userId: 'bob', reason: 'Travelling', until: at(18), version: 1 }, support],
      [19, 'MemberExemptionEnded', { userId: 'bob', version: 1, reason: 'expired', note: null }, scheduler],
      [21, 'MemberExempted', { userId: 'bob', reason: 'Phone lost', until: at(40), version: 2 }, admin],
      [24, 'MemberExemptionEnded', { userId: 'bob', version: 2, reason: 'revoked', note: null }, admin],
    ]);
    const bobOnly = new Map([['alice', alice], ['bob', history('user-bob', [[0, 'UserRegistered', { userId: 'bob', email: ENCRYPTED }]])]]);

    it('counts exempt time apart from time without 2FA, up to `until` even if the expiry was recorded later', () => {
      const report = complianceReport('acme', exemptOrg, bobOnly, { from: new Date(at(0)), to: new Date(at(30)), now: new Date(at(100)) });
      const bobRow = report.members.find((m) => m.userId === 'bob')!;
      // Enforced 10-30h = 20h; exempt 12-18h and 21-24h = 9h; without 2FA and not exempt: 11h.
      expect(bobRow).toMatchObject({ exemptSeconds: 9 * 3600, withoutTwoFactorSeconds: 11 * 3600 });
      expect(report.exemptions).toEqual([
        { at: at(12), userId: 'bob', change: 'exempted', until: at(18), reason: 'Travelling', actor: support },
        { at: at(19), userId: 'bob', change: 'ended', until: null, reason: 'expired', actor: scheduler },
        { at: at(21), userId: 'bob', change: 'exempted', until: at(40), reason: 'Phone lost', actor: admin },
        { at: at(24), userId: 'bob', change: 'ended', until: null, reason: 'revoked', actor: admin },
      ]);
      const rows = complianceCsv(report).split('\r\n');
      expect(rows).toContain(`exemption,acme,bob,,,,${at(12)},,,,agent,support,Travelling,,${at(18)}`);
      expect(rows).toContain(`exemption_end,acme,bob,,,,${at(24)},,,,alice,,revoked,,`);
    });
  });
});
