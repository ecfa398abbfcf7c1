import { daysLeftPhrase, deadlinePhrase, reminderEmail } from '../../src/reminders/reminder.email.js';
import type { ReminderEmailInput } from '../../src/reminders/reminder.email.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const APP = 'https://approvals.example.test/';
const SETUP = 'https://approvals.example.test/settings/two-factor?from=reminder&x=1';

const SUPPORT = 'https://help.example.test/two-factor';
const orgs = (...names: string[]) => names.map((name) => ({ name, xeroConnected: false }));

function input(overrides: Partial<ReminderEmailInput> = {}): ReminderEmailInput {
  return { productName: 'Approvals', orgs: orgs('Acme Ltd', 'Beta & Sons'), cadence: 'soft', intervalMs: WEEK, appBaseUrl: APP, enforcementPageUrl: SETUP, supportUrl: SUPPORT, ...overrides };
}

/** Visible text of the HTML part, entities decoded, to compare it with the text part. */
function visibleText(html: string): string {
  return html
    .replace(/<title>.*?<\/title>/s, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

describe('reminderEmail', () => {
  it('soft: names the organisations, says access is not blocked, and reminds weekly', () => {
    const email = reminderEmail(input());

    expect(email.subject).toMatch(/reminder/i);
    expect(email.subject).toMatch(/two-factor authentication/);
    for (const part of [email.text, visibleText(email.html)]) {
      expect(part).toContain('These organisations you belong to in Approvals require two-factor authentication');
      expect(part).toContain('Acme Ltd');
      expect(part).toContain('Beta & Sons');
      expect(part).toContain('your access is not blocked');
      expect(part).not.toMatch(/access is blocked/);
      expect(part).toContain('every week');
    }
  });

  it('hard: says access is blocked until two-factor authentication is on, and reminds daily', () => {
    const email = reminderEmail(input({ cadence: 'hard', intervalMs: DAY, orgs: orgs('Acme Ltd') }));

    expect(email.subject).toMatch(/blocked/);
    for (const part of [email.text, visibleText(email.html)]) {
      expect(part).toContain('This organisation you belong to in Approvals requires two-factor authentication');
      expect(part).toContain('Acme Ltd');
      expect(part).toContain('Your access is blocked until you turn on two-factor authentication.');
      expect(part).not.toContain('not blocked');
      expect(part).toContain('every day');
    }
  });

  it('states the configured interval, not a fixed one, in both parts', () => {
    const cases: [number, string][] = [
      [2 * WEEK, 'every 2 weeks'],
      [3 * DAY, 'every 3 days'],
      [36 * 3_600_000, 'every 36 hours'],
      [90 * 60_000, 'every 90 minutes'],
      [1_500, 'every 2 seconds'],
    ];
    for (const [intervalMs, phrase] of cases) {
      const email = reminderEmail(input({ cadence: 'hard', intervalMs }));
      expect(email.text).toContain(`You will get this reminder ${phrase} until`);
      expect(visibleText(email.html)).toContain(`You will get this reminder ${phrase} until`);
    }
  });

  it('links to the setup page and to the app in both parts', () => {
    const email = reminderEmail(input());

    expect(email.text).toContain(`Turn on two-factor authentication: ${SETUP}`);
    expect(email.text).toContain(`Open Approvals: ${APP}`);
    expect(email.html).toContain(`<a href="${SETUP.replace(/&/g, '&amp;')}">Turn on two-factor authentication</a>`);
    expect(email.html).toContain(`<a href="${APP}">Open Approvals</a>`);
  });

  it('escapes a malicious organisation name in the HTML part', () => {
    const evil = `<script>alert("x")</script><img src=x onerror='y'>`;
    const email = reminderEmail(input({ orgs: orgs(evil) }));

    expect(email.html).not.toContain('<script>');
    expect(email.html).not.toContain('<img');
    expect(email.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt;');
    expect(email.text).toContain(evil);
  });

  it('keeps a name from forging lines or reordering text with control characters', () => {
    const email = reminderEmail(input({ orgs: orgs('Acme\r\n\r\nYour access is restored.\u202Egnp.exe', 'Acme\r\n\r\nYour access is restored.\u202Egnp.exe') }));

    expect(email.text).toContain('  - Acme Your access is restored. gnp.exe\n');
    expect(email.text.match(/Your access is restored/g)).toHaveLength(1);
    expect(email.text).not.toContain('\r');
    expect(email.html).not.toContain('\u202E');
  });

  it('loads nothing from elsewhere: no images, scripts, styles or tracking', () => {
    const email = reminderEmail(input({ cadence: 'hard' }));

    expect(email.html).not.toMatch(/<(img|script|link|iframe|object|embed)\b/i);
    expect(email.html).not.toMatch(/url\(/i);
    const hrefs = [...email.html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]?.replace(/&amp;/g, '&'));
    expect(hrefs).toEqual([SETUP, APP, SUPPORT]);
  });

  it('still reads correctly when the organisation names are not known', () => {
    const email = reminderEmail(input({ orgs: orgs() }));

    expect(email.text).toContain('An organisation you belong to in Approvals requires two-factor authentication.');
    expect(email.html).not.toContain('<ul>');
  });

  it('refuses links that are not http(s)', () => {
    expect(() => reminderEmail(input({ enforcementPageUrl: 'javascript:alert(1)' }))).toThrow(RangeError);
    expect(() => reminderEmail(input({ appBaseUrl: 'data:text/html,hi' }))).toThrow(RangeError);
    expect(() => reminderEmail(input({ supportUrl: 'javascript:alert(1)' }))).toThrow(RangeError);
  });

  it('names the product in the subject and both parts, so it does not read as phishing', () => {
    const email = reminderEmail(input({ productName: 'Ledgerly' }));

    expect(email.subject).toMatch(/^Ledgerly: /);
    for (const part of [email.text, visibleText(email.html)]) {
      expect(part).toContain('you belong to in Ledgerly');
      expect(part).toContain('Open Ledgerly');
      expect(part).not.toContain('Approvals');
    }
  });

  it('says which organisation asks, and that Xero is the reason when it is connected to Xero', () => {
    const email = reminderEmail(input({ orgs: [{ name: 'Acme Ltd', xeroConnected: true }, { name: 'Beta & Sons', xeroConnected: false }] }));

    for (const part of [email.text, visibleText(email.html)]) {
      expect(part).toContain('Acme Ltd (connected to Xero, which requires two-factor authentication of everyone who works with it)');
      expect(part).toMatch(/Beta & Sons(?! \(connected)/);
    }
  });

  it('gives a help contact, as a page or as an email address', () => {
    const page = reminderEmail(input());
    expect(page.text).toContain(`Contact support: ${SUPPORT}`);
    expect(page.html).toContain(`<a href="${SUPPORT}">Contact support: ${SUPPORT}</a>`);

    const mail = reminderEmail(input({ supportUrl: 'mailto:help@example.test' }));
    expect(mail.text).toContain('Contact support: help@example.test');
    expect(mail.html).toContain('<a href="mailto:help@example.test">Contact support: help@example.test</a>');
  });

  it('before a deadline, says how many days are left and the date in words, in UTC, not an ISO string', () => {
    const deadline = '2026-12-15T09:00:00.000Z';
    const email = reminderEmail(input({ deadline, now: '2026-12-01T09:00:00.000Z' }));
    expect(email.subject).toMatch(/\(14 days left\)$/);
    for (const part of [email.text, email.html]) {
      expect(part).toContain('Tuesday 15 December 2026 at 09:00 UTC');
      expect(part).toContain('14 days left');
      expect(part).not.toContain(deadline);
    }
    expect(daysLeftPhrase(deadline, '2026-12-14T09:00:01.000Z')).toBe('1 day left');
    expect(daysLeftPhrase(deadline, '2026-12-15T08:00:00.000Z')).toBe('less than a day left');
    expect(deadlinePhrase('2026-12-14T23:30:00.000Z')).toBe('Monday 14 December 2026 at 23:30 UTC');
  });
});
