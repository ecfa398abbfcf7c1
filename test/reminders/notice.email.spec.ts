import { describe, expect, it } from '@jest/globals';
import { adminDigestEmail } from '../../src/reminders/admin-digest.email.js';
import { memberResetEmail, userNoticeEmail } from '../../src/reminders/notice.email.js';
import type { UserNoticeKind } from '../../src/reminders/notice.policy.js';

const brand = { productName: 'Ledger', color: '#aa3300', supportUrl: 'mailto:help@example.com' };
const at = '2026-12-01T23:02:00.000Z';
const KINDS: UserNoticeKind[] = ['two_factor_enabled', 'two_factor_disabled', 'two_factor_reset', 'verification_locked', 'backup_codes_regenerated', 'backup_codes_low'];

describe('security notice emails', () => {
  it.each(KINDS)('%s says what, when and where to report it, in both parts', (kind) => {
    const mail = userNoticeEmail({ brand, kind, at, lockedUntil: '2026-12-01T23:32:00.000Z', backupCodesLeft: 2, manageUrl: 'https://app.example.com/two-factor/manage' });
    expect(mail.subject).toMatch(/^Ledger: /);
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Tuesday 1 December 2026 at 23:02 UTC');
      expect(part).toContain(at);
      expect(part).toContain('help@example.com');
      expect(part).toContain('https://app.example.com/two-factor/manage');
    }
    expect(mail.html).toContain('#aa3300');
  });

  it('escapes names for HTML and drops line breaks and bidi overrides from both parts', () => {
    const mail = memberResetEmail({ brand, at, member: 'eve@example.com\nBcc: x', orgNames: ['<b>Acme</b> & Co', 'Evil\u202eoc'] });
    expect(mail.html).toContain('&lt;b&gt;Acme&lt;/b&gt; &amp; Co');
    expect(mail.html).not.toContain('<b>Acme');
    expect(mail.text).not.toMatch(/\nBcc:/);
    expect(mail.text + mail.html).not.toContain('\u202e');
  });

  it('refuses a link that is not http(s)', () => {
    expect(() => userNoticeEmail({ brand, kind: 'two_factor_enabled', at, lockedUntil: null, backupCodesLeft: null, manageUrl: 'javascript:alert(1)' })).toThrow(RangeError);
  });

  it('digest: names at most 50 members and counts the rest', () => {
    const listed = Array.from({ length: 60 }, (_, i) => `m${i}@example.com`);
    const mail = adminDigestEmail({ brand, orgName: 'Acme', mode: 'hard', missingCount: 60, listed, exemptionsEnding: [], hardFrom: null, consoleUrl: 'https://app.example.com/console/organisations/acme', everyMs: 7 * 86_400_000 });
    expect(mail.text.split('\n').filter((line) => line.startsWith('  - m'))).toHaveLength(50);
    expect(mail.text).toContain('… and 10 more, listed in the console.');
    expect(mail.text).toContain('every week');
    expect(mail.subject).toBe('Ledger: Acme: 60 members without two-factor authentication');
  });
});
