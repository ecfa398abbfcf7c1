/**
 * Security notices and the admins' digest, text and HTML. Pure: everything they say comes from
 * their input, and they never carry a code, secret or token (there is none in the input). The same
 * rules as the reminder: user-controlled text (organisation names, addresses) is cleaned of control
 * and bidi characters for both parts and HTML-escaped for the HTML part; links are http(s) only (the
 * support contact may be a mailto: address).
 */
import type { UserNoticeKind } from './notice.policy.js';
import { cleanText, deadlinePhrase, displayedUrl, escapeHtml, httpUrl, SAFETY_NOTE, supportUrl } from './reminder.email.js';

export interface Brand {
  readonly productName: string;
  /** #rrggbb, the pages' brand colour; used for the heading rule only. */
  readonly color: string;
  /** Where to ask for help or report: an http(s) page or a mailto: address. */
  readonly supportUrl: string;
}

export interface SecurityEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** A paragraph, a list, or a link: the building blocks every notice and digest is made of. */
export type Block =
  | { readonly kind: 'p'; readonly text: string; readonly strong?: boolean }
  | { readonly kind: 'list'; readonly items: readonly string[] }
  | { readonly kind: 'link'; readonly label: string; readonly href: string };

export interface UserNoticeInput {
  readonly brand: Brand;
  readonly kind: UserNoticeKind;
  readonly at: string;
  readonly lockedUntil: string | null;
  readonly backupCodesLeft: number | null;
  /** The manage page (turn 2FA on or off, new backup codes). */
  readonly manageUrl: string;
}

export interface MemberResetInput {
  readonly brand: Brand;
  readonly at: string;
  /** How the member is named to the admin: their address, or their user id when it is unreadable. */
  readonly member: string;
  readonly orgNames: readonly string[];
}

interface Wording {
  readonly subject: string;
  readonly what: (input: UserNoticeInput) => string;
  readonly next: string;
}

const NOT_YOU = 'If this was not you, contact support at once: someone else may be signing in to your account.';

const wording: Record<UserNoticeKind, Wording> = {
  two_factor_enabled: {
    subject: 'Two-factor authentication was turned on',
    what: () => 'Two-factor authentication was turned on for your account.',
    next: 'From now on you will be asked for a code from your authenticator app when you sign in.',
  },
  two_factor_disabled: {
    subject: 'Two-factor authentication was turned off',
    what: () => 'Two-factor authentication was turned off for your account.',
    next: 'Your account is now protected by your password alone. You can turn two-factor authentication on again at any time.',
  },
  two_factor_reset: {
    subject: 'Support removed your two-factor authentication',
    what: () => 'A support agent removed the two-factor authentication of your account (a reset, usually after a lost phone).',
    next: 'Your old authenticator entry and backup codes no longer work. Set up two-factor authentication again.',
  },
  verification_locked: {
    subject: 'Sign-in verification is locked after too many wrong codes',
    what: (input) =>
      `Too many wrong two-factor codes were entered for your account, so verification is locked${input.lockedUntil ? ` until ${deadlinePhrase(input.lockedUntil)}` : ''}.`,
    next: 'Whoever entered them knew your password: if it was not you, change your password now.',
  },
  backup_codes_regenerated: {
    subject: 'New backup codes were created',
    what: () => 'A new set of backup codes was created for your account.',
    next: 'The old backup codes no longer work.',
  },
  backup_codes_low: {
    subject: 'You are running out of backup codes',
    what: (input) => `A backup code was used to sign in to your account; ${leftPhrase(input.backupCodesLeft ?? 0)}.`,
    next: 'Create a new set before you run out, or you may be locked out when your phone is not at hand.',
  },
};

function leftPhrase(left: number): string {
  if (left === 0) return 'no backup code is left';
  return left === 1 ? '1 backup code is left' : `${left} backup codes are left`;
}

/** "Monday 1 December 2026 at 23:02 UTC (2026-12-01T23:02:00.000Z)": for people, and exact. */
export function whenPhrase(instant: string): string {
  return `${deadlinePhrase(instant)} (${new Date(instant).toISOString()})`;
}

export function userNoticeEmail(input: UserNoticeInput): SecurityEmail {
  const words = wording[input.kind];
  const blocks: Block[] = [
    { kind: 'p', text: words.what(input), strong: true },
    { kind: 'p', text: `When: ${whenPhrase(input.at)}` },
    { kind: 'p', text: words.next },
    { kind: 'link', label: 'Manage two-factor authentication', href: httpUrl(input.manageUrl) },
    { kind: 'p', text: NOT_YOU },
  ];
  return renderSecurityEmail(input.brand, words.subject, blocks);
}

export function memberResetEmail(input: MemberResetInput): SecurityEmail {
  const member = cleanText(input.member);
  const orgs = input.orgNames.map(cleanText).filter((name) => name.length > 0);
  const blocks: Block[] = [
    { kind: 'p', text: `A support agent removed the two-factor authentication of ${member}, a member of an organisation you administer:`, strong: true },
    { kind: 'list', items: orgs },
    { kind: 'p', text: `When: ${whenPhrase(input.at)}` },
    { kind: 'p', text: 'They will be asked to set it up again; until then they sign in with their password alone where your policy allows it.' },
    { kind: 'p', text: 'If you did not expect this reset, report it to support.' },
  ];
  return renderSecurityEmail(input.brand, `Support reset the two-factor authentication of ${member}`, blocks);
}

/** One layout for every security email: greeting, blocks, the safety note and the support contact. */
export function renderSecurityEmail(brand: Brand, subject: string, blocks: readonly Block[]): SecurityEmail {
  const product = cleanText(brand.productName) || 'Approvals';
  const support = supportUrl(brand.supportUrl);
  const fullSubject = `${product}: ${cleanText(subject)}`;
  const help = `Questions, or did you not expect this email? Contact support: ${displayedUrl(support)}`;
  const text = ['Hello,', '', ...blocks.flatMap((block) => [...textBlock(block), '']), SAFETY_NOTE, help, ''].join('\n');
  const color = /^#[0-9a-fA-F]{6}$/.test(brand.color) ? brand.color : '#2457c5';
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(fullSubject)}</title></head>`,
    `<body style="font-family: sans-serif; line-height: 1.5; border-top: 4px solid ${color}; padding-top: 8px;">`,
    `<p style="color: ${color};"><strong>${escapeHtml(product)}</strong></p>`,
    '<p>Hello,</p>',
    ...blocks.map(htmlBlock),
    `<p>${escapeHtml(SAFETY_NOTE)}</p>`,
    `<p>Questions, or did you not expect this email? <a href="${escapeHtml(support)}">Contact support: ${escapeHtml(displayedUrl(support))}</a></p>`,
    '</body></html>',
    '',
  ].join('\n');
  return { subject: fullSubject, text, html };
}

function textBlock(block: Block): string[] {
  switch (block.kind) {
    case 'p':
      return [cleanText(block.text)];
    case 'list':
      return block.items.map((item) => `  - ${cleanText(item)}`);
    case 'link':
      return [`${cleanText(block.label)}: ${httpUrl(block.href)}`];
  }
}

function htmlBlock(block: Block): string {
  switch (block.kind) {
    case 'p':
      return block.strong ? `<p><strong>${escapeHtml(cleanText(block.text))}</strong></p>` : `<p>${escapeHtml(cleanText(block.text))}</p>`;
    case 'list':
      return block.items.length === 0 ? '' : `<ul>${block.items.map((item) => `<li>${escapeHtml(cleanText(item))}</li>`).join('')}</ul>`;
    case 'link':
      return `<p><a href="${escapeHtml(httpUrl(block.href))}">${escapeHtml(cleanText(block.label))}</a></p>`;
  }
}
