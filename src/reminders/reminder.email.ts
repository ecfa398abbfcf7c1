/**
 * The reminder email, text and HTML. Pure: everything it says comes from its input. Org names
 * are user-controlled, so they are cleaned of control characters for both parts and
 * HTML-escaped for the HTML part; links must be absolute http(s) URLs.
 */
export interface ReminderEmailInput {
  /** Names of the organisations that require two-factor authentication of this user. */
  readonly orgNames: readonly string[];
  readonly cadence: 'soft' | 'hard';
  /** The configured interval between reminders of this cadence, stated in the email. */
  readonly intervalMs: number;
  readonly appBaseUrl: string;
  readonly enforcementPageUrl: string;
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
  const words = wording[input.cadence];
  const orgs = cleanOrgNames(input.orgNames);
  const links = { setup: httpUrl(input.enforcementPageUrl), app: httpUrl(input.appBaseUrl) };
  const repeat = `You will get this reminder ${everyPhrase(input.intervalMs)} until two-factor authentication is on.`;
  return { subject: words.subject, text: textPart(orgs, words, links, repeat), html: htmlPart(orgs, words, links, repeat) };
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
}

const SAFETY_NOTE = 'We will never ask you for a code by email or phone.';

function requirementSentence(orgs: readonly string[]): string {
  if (orgs.length === 0) return 'An organisation you belong to requires two-factor authentication.';
  return orgs.length === 1
    ? 'This organisation requires two-factor authentication:'
    : 'These organisations require two-factor authentication:';
}

function textPart(orgs: readonly string[], words: Wording, links: Links, repeat: string): string {
  return [
    'Hello,',
    '',
    requirementSentence(orgs),
    ...orgs.map((name) => `  - ${name}`),
    '',
    words.status,
    '',
    `Turn on two-factor authentication: ${links.setup}`,
    `Open the app: ${links.app}`,
    '',
    repeat,
    SAFETY_NOTE,
    '',
  ].join('\n');
}

function htmlPart(orgs: readonly string[], words: Wording, links: Links, repeat: string): string {
  const list = orgs.length === 0 ? '' : `<ul>${orgs.map((name) => `<li>${escapeHtml(name)}</li>`).join('')}</ul>`;
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(words.subject)}</title></head>`,
    '<body style="font-family: sans-serif; line-height: 1.5;">',
    '<p>Hello,</p>',
    `<p>${escapeHtml(requirementSentence(orgs))}</p>${list}`,
    `<p><strong>${escapeHtml(words.status)}</strong></p>`,
    `<p><a href="${escapeHtml(links.setup)}">Turn on two-factor authentication</a></p>`,
    `<p><a href="${escapeHtml(links.app)}">Open the app</a></p>`,
    `<p>${escapeHtml(repeat)} ${escapeHtml(SAFETY_NOTE)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Control and bidirectional-override characters are dropped: a line break in a name could forge
 * lines of the text part, and a bidi override could make a name read as something else.
 */
function cleanOrgNames(names: readonly string[]): string[] {
  const cleaned = names
    .map((name) =>
      name
        .replace(/[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    )
    .map((name) => (name.length > MAX_ORG_NAME_LENGTH ? `${name.slice(0, MAX_ORG_NAME_LENGTH - 1)}…` : name))
    .filter((name) => name.length > 0);
  return [...new Set(cleaned)];
}

/** Only http(s): a `javascript:` or `data:` link in a security email would be an attack vector. */
function httpUrl(value: string): string {
  const url = new URL(value);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RangeError('reminder links must be http(s) URLs');
  return url.href;
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
