/**
 * The reminder email, text and HTML. Pure: everything it says comes from its input. Org names
 * are user-controlled, so they are cleaned of control characters for both parts and
 * HTML-escaped for the HTML part; links must be absolute http(s) URLs (the help contact may
 * also be a mailto: address).
 */
export interface ReminderEmailInput {
  /** The product the user signs in to: an email that names no sender reads as phishing. */
  readonly productName: string;
  /** The organisations that require two-factor authentication of this user, and whether Xero is why. */
  readonly orgs: readonly ReminderOrg[];
  readonly cadence: 'soft' | 'hard';
  /** The configured interval between reminders of this cadence, stated in the email. */
  readonly intervalMs: number;
  readonly appBaseUrl: string;
  readonly enforcementPageUrl: string;
  /** Where to ask for help: an http(s) page or a mailto: address. */
  readonly supportUrl: string;
  /** When a soft requirement turns hard (a scheduled escalation, the end of grace); counted down from `now`. */
  readonly deadline?: string | null;
  readonly now?: string;
}

export interface ReminderOrg {
  readonly name: string;
  readonly xeroConnected: boolean;
}

export interface ReminderEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

const MAX_ORG_NAME_LENGTH = 120;

interface Wording {
  readonly subject: string;
  readonly status: string;
}

const wording: Record<ReminderEmailInput['cadence'], Wording> = {
  soft: {
    subject: 'Reminder: please turn on two-factor authentication',
    status: 'This is a reminder: your access is not blocked, but please turn on two-factor authentication soon.',
  },
  hard: {
    subject: 'Action required: your access is blocked until you turn on two-factor authentication',
    status: 'Your access is blocked until you turn on two-factor authentication.',
  },
};

export function reminderEmail(input: ReminderEmailInput): ReminderEmail {
  const product = cleanText(input.productName) || 'Approvals';
  const words = wording[input.cadence];
  const orgs = cleanOrgs(input.orgs);
  const links = { setup: httpUrl(input.enforcementPageUrl), app: httpUrl(input.appBaseUrl), support: supportUrl(input.supportUrl) };
  const repeat = `You will get this reminder ${everyPhrase(input.intervalMs)} until two-factor authentication is on.`;
  const countdown = input.cadence === 'soft' && input.deadline && input.now ? countdownWords(input.deadline, input.now) : null;
  const status = countdown ? { ...words, status: `${words.status} ${countdown.sentence}` } : words;
  const parts: Parts = { product, orgs, words: status, links, repeat };
  const subject = countdown ? `${words.subject} (${countdown.left})` : words.subject;
  return { subject: `${product}: ${subject}`, text: textPart(parts), html: htmlPart(parts) };
}

const DAY_MS = 86_400_000;
// A job may run a little late or early; an hour's slack keeps "14 days before" saying 14.
const SLACK_MS = 3_600_000;

/** "Monday 15 December 2026 at 09:00 UTC": the words a reader uses, in UTC, and saying so. */
export function deadlinePhrase(instant: string): string {
  const at = new Date(instant);
  const day = new Intl.DateTimeFormat('en-GB', { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }).format(at).replace(',', '');
  const time = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' }).format(at);
  return `${day} at ${time} UTC`;
}

/** Whole days left, rounded up; "less than a day" on the last one. */
export function daysLeftPhrase(deadline: string, now: string): string {
  const left = Date.parse(deadline) - Date.parse(now);
  if (left < DAY_MS - SLACK_MS) return 'less than a day left';
  const days = Math.ceil((left - SLACK_MS) / DAY_MS);
  return days === 1 ? '1 day left' : `${days} days left`;
}

function countdownWords(deadline: string, now: string): { left: string; sentence: string } {
  const left = daysLeftPhrase(deadline, now);
  return { left, sentence: `From ${deadlinePhrase(deadline)} (${left}), your access will be blocked until it is on.` };
}

const UNITS = [
  ['week', 7 * 86_400_000],
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
] as const;

/** "every week", "every 3 days", "every 36 hours": the largest unit that divides the interval. */
export function everyPhrase(intervalMs: number): string {
  const [unit, size] = UNITS.find(([, size]) => intervalMs % size === 0) ?? UNITS[UNITS.length - 1]!;
  const count = Math.max(1, Math.round(intervalMs / size));
  return count === 1 ? `every ${unit}` : `every ${count} ${unit}s`;
}

interface Links {
  readonly setup: string;
  readonly app: string;
  readonly support: string;
}

interface Parts {
  readonly product: string;
  readonly orgs: readonly ReminderOrg[];
  readonly words: Wording;
  readonly links: Links;
  readonly repeat: string;
}

export const SAFETY_NOTE = 'We will never ask you for a code by email or phone.';

function requirementSentence(product: string, orgs: readonly ReminderOrg[]): string {
  if (orgs.length === 0) return `An organisation you belong to in ${product} requires two-factor authentication.`;
  return orgs.length === 1
    ? `This organisation you belong to in ${product} requires two-factor authentication:`
    : `These organisations you belong to in ${product} require two-factor authentication:`;
}

/** Xero requires 2FA of everyone who works on a connected organisation: say so, it is the reason. */
const XERO_REASON = 'connected to Xero, which requires two-factor authentication of everyone who works with it';

function orgLine(org: ReminderOrg): string {
  return org.xeroConnected ? `${org.name} (${XERO_REASON})` : org.name;
}

function helpSentence(links: Links): string {
  return `Questions, or did you not expect this email? Contact support: ${displayedUrl(links.support)}`;
}

function textPart({ product, orgs, words, links, repeat }: Parts): string {
  return [
    'Hello,',
    '',
    requirementSentence(product, orgs),
    ...orgs.map((org) => `  - ${orgLine(org)}`),
    '',
    words.status,
    '',
    `Turn on two-factor authentication: ${links.setup}`,
    `Open ${product}: ${links.app}`,
    '',
    repeat,
    SAFETY_NOTE,
    helpSentence(links),
    '',
  ].join('\n');
}

function htmlPart({ product, orgs, words, links, repeat }: Parts): string {
  const list = orgs.length === 0 ? '' : `<ul>${orgs.map((org) => `<li>${escapeHtml(orgLine(org))}</li>`).join('')}</ul>`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(`${product}: ${words.subject}`)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5;">',
    '<p>Hello,</p>',
    `<p>${escapeHtml(requirementSentence(product, orgs))}</p>${list}`,
    `<p><strong>${escapeHtml(words.status)}</strong></p>`,
    `<p><a href="${escapeHtml(links.setup)}">Turn on two-factor authentication</a></p>`,
    `<p><a href="${escapeHtml(links.app)}">Open ${escapeHtml(product)}</a></p>`,
    `<p>${escapeHtml(repeat)} ${escapeHtml(SAFETY_NOTE)}</p>`,
    `<p>Questions, or did you not expect this email? <a href="${escapeHtml(links.support)}">Contact support: ${escapeHtml(displayedUrl(links.support))}</a></p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Control and bidirectional-override characters are dropped: a line break in a name could forge
 * lines of the text part, and a bidi override could make a name read as something else.
 */
export function cleanText(text: string): string {
  return text
    .replace(/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function cleanOrgs(orgs: readonly ReminderOrg[]): ReminderOrg[] {
  const byName = new Map<string, ReminderOrg>();
  for (const org of orgs) {
    const cleaned = cleanText(org.name);
    const name = cleaned.length > MAX_ORG_NAME_LENGTH ? `${cleaned.slice(0, MAX_ORG_NAME_LENGTH - 1)}…` : cleaned;
    if (name.length === 0) continue;
    byName.set(name, { name, xeroConnected: org.xeroConnected || (byName.get(name)?.xeroConnected ?? false) });
  }
  return [...byName.values()];
}

/** Only http(s): a `javascript:` or `data:` link in a security email would be an attack vector. */
export function httpUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError('reminder links must be http(s) URLs');
  return url.href;
}

export function supportUrl(value: string): string {
  const url = new URL(value);
  return url.protocol === 'mailto:' ? url.href : httpUrl(value);
}

/** A mailto: link is shown as the bare address a reader can copy. */
export function displayedUrl(href: string): string {
  return href.startsWith('mailto:') ? decodeURIComponent(href.slice('mailto:'.length)) : href;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
