import { everyPhrase } from './reminder.email.js';
import { renderSecurityEmail, whenPhrase, type Block, type Brand, type SecurityEmail } from './notice.email.js';

/** At most this many members are named in a digest; the rest are one link away in the console. */
export const DIGEST_LISTED_MEMBERS = 50;

export interface AdminDigestInput {
  readonly brand: Brand;
  readonly orgName: string;
  readonly mode: 'soft' | 'hard';
  /** Members (not exempt, not forgotten) still without 2FA. */
  readonly missingCount: number;
  /** How the first of them are named (addresses; a user id when unreadable); at most DIGEST_LISTED_MEMBERS. */
  readonly listed: readonly string[];
  readonly exemptionsEnding: readonly { readonly member: string; readonly until: string }[];
  /** The pending scheduled escalation, if any. */
  readonly hardFrom: string | null;
  readonly consoleUrl: string;
  readonly everyMs: number;
}

const MODE_SENTENCE = {
  soft: 'members without it are reminded but can still work',
  hard: 'members without it are blocked until they turn it on',
} as const;

export function adminDigestEmail(input: AdminDigestInput): SecurityEmail {
  const { orgName, missingCount } = input;
  const listed = input.listed.slice(0, DIGEST_LISTED_MEMBERS);
  const more = missingCount - listed.length;
  const members = missingCount === 1 ? '1 member' : `${missingCount} members`;
  const blocks: Block[] = [
    { kind: 'p', text: `${orgName} requires two-factor authentication (${MODE_SENTENCE[input.mode]}).` },
    { kind: 'p', text: missingCount === 0 ? 'Every member has turned it on.' : `${members} still without two-factor authentication:`, strong: true },
    { kind: 'list', items: listed },
  ];
  if (more > 0) blocks.push({ kind: 'p', text: `… and ${more} more, listed in the console.` });
  if (input.exemptionsEnding.length > 0) {
    blocks.push({ kind: 'p', text: 'Exemptions ending soon (these members will then be asked to turn it on):' });
    blocks.push({ kind: 'list', items: input.exemptionsEnding.map((e) => `${e.member}: ends ${whenPhrase(e.until)}`) });
  }
  if (input.hardFrom !== null) {
    blocks.push({ kind: 'p', text: `Scheduled: from ${whenPhrase(input.hardFrom)} members without two-factor authentication will be blocked.` });
  }
  blocks.push({ kind: 'link', label: `Open ${orgName} in the console`, href: input.consoleUrl });
  blocks.push({ kind: 'p', text: `You get this digest ${everyPhrase(input.everyMs)} as an admin of ${orgName}.` });
  return renderSecurityEmail(input.brand, `${orgName}: ${members} without two-factor authentication`, blocks);
}
