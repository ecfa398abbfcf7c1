import { handleCommand } from '../application/command-handling.js';
import { fold } from '../kernel/decider.js';
import { isDomainError } from '../kernel/domain-error.js';
import { orgMemberId } from '../projections/org-member.index.js';
import { ORG_MEMBERS, ORGANISATIONS, USERS, type MemberDoc, type OrganisationDoc, type UserDoc } from '../organisations/directory.projection.js';
import { EMAIL_PURPOSE } from '../two-factor/two-factor.flows.js';
import { userDecider, userStream } from '../two-factor/user.decider.js';
import type { UserEvent } from '../two-factor/user.events.js';
import { digestKey } from '../two-factor/user.state.js';
import { adminDigestEmail, DIGEST_LISTED_MEMBERS, type AdminDigestInput } from './admin-digest.email.js';
import { nextPeriodStart, periodStart } from './admin-digest.period.js';
import { allDocs, pageUrl } from './notice.sender.js';
import { recipientEmail, type MailJobDependencies } from './reminder.sender.js';
import { sendWithRetry } from './send-with-retry.js';

const DIGEST_ACTOR = { id: 'digest-sender', roles: ['system'] } as const;
const ENFORCING = ['soft', 'hard'] as const;

export type DigestOutcome = 'sent' | 'already_sent' | 'nothing_to_report' | 'not_admin' | 'not_enforcing' | 'no_address';

export interface DigestJob {
  readonly orgId: string;
  readonly adminId: string;
  readonly period: string;
}

/** Where the per-admin jobs go; the Agenda implementation is unique per (org, admin, period). */
export interface DigestJobs {
  enqueue(job: DigestJob): Promise<void>;
}

/**
 * The admins' digest. `fanOut` lists, for the current period, one job per admin of each enforcing
 * organisation; `send` runs one of them: it re-checks from current state that the organisation
 * still enforces, the admin is still one, and nothing was recorded for this (org, period) on the
 * admin's stream, sends, and records `AdminDigestSent` after the SMTP server accepted it.
 *
 * Exactly once per period per admin across scheduler processes: the job is unique per (org,
 * admin, period) and Agenda locks it to one worker, so one process sends; a job created again
 * later (a second process's fan-out after the first job was removed) finds the digest recorded
 * and sends nothing; and the record itself is a conditional append whose command id derives from
 * (org, admin, period), so of two racing appends one records and the other decides nothing.
 */
export class AdminDigests {
  constructor(
    private readonly deps: MailJobDependencies & { readonly jobs: DigestJobs },
  ) {}

  /** The period the clock is in, named by its start. */
  currentPeriod(): string {
    return periodStart(this.deps.clock.now(), this.deps.config.ADMIN_DIGEST_EVERY).toISOString();
  }

  nextPeriodStart(): Date {
    return nextPeriodStart(this.deps.clock.now(), this.deps.config.ADMIN_DIGEST_EVERY);
  }

  /** One job per admin of each enforcing organisation, for the current period; idempotent. */
  async fanOut(): Promise<number> {
    const period = this.currentPeriod();
    let jobs = 0;
    for (const mode of ENFORCING) {
      for await (const org of allDocs<OrganisationDoc>(this.deps.readStore, ORGANISATIONS, { mode })) {
        for await (const admin of allDocs<MemberDoc>(this.deps.readStore, ORG_MEMBERS, { orgId: org.id, role: 'admin' })) {
          await this.deps.jobs.enqueue({ orgId: org.id, adminId: admin.userId, period });
          jobs += 1;
        }
      }
    }
    return jobs;
  }

  async send({ orgId, adminId, period }: DigestJob): Promise<DigestOutcome> {
    const { readStore, events, clock } = this.deps;
    const org = await readStore.get<OrganisationDoc>(ORGANISATIONS, orgId);
    if (org?.mode !== 'soft' && org?.mode !== 'hard') return 'not_enforcing';
    const admin = await readStore.get<MemberDoc>(ORG_MEMBERS, orgMemberId(orgId, adminId));
    if (admin?.role !== 'admin') return 'not_admin';
    const history = (await events.readStream(userStream(adminId))) as unknown as UserEvent[];
    const state = fold(userDecider, history);
    if (state.status !== 'registered') return 'no_address';
    if (state.digestKeys.includes(digestKey(orgId, period))) return 'already_sent';
    const now = clock.now();
    const content = await this.content(org, now);
    // Nothing to act on: no digest, and nothing recorded (a later job of the period may still find something).
    if (content.missingCount === 0 && content.exemptionsEnding.length === 0) return 'nothing_to_report';
    const to = await recipientEmail(this.deps.cipher, adminId, history);
    if (to === null) return 'no_address';
    const key = `digest|${orgId}|${adminId}|${period}`;
    const sent = await sendWithRetry(this.deps.mailer, { to, recipientId: adminId, ...adminDigestEmail(content), idempotencyKey: key }, { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 });
    try {
      await handleCommand(
        events,
        userDecider,
        userStream(adminId),
        { type: 'RecordAdminDigestSent', userId: adminId, orgId, period, missing: content.missingCount, messageId: sent.messageId, sentAt: now.toISOString(), actor: DIGEST_ACTOR, at: now.toISOString() },
        { commandId: key, correlationId: key, actor: DIGEST_ACTOR, now },
      );
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'user_forgotten')) throw error;
      await this.deps.mailer.forgetRecipient(adminId);
      return 'no_address';
    }
    this.deps.logger.info({ orgId, userId: adminId, period, missing: content.missingCount }, 'admin digest sent');
    return 'sent';
  }

  private async content(org: OrganisationDoc, now: Date): Promise<AdminDigestInput> {
    const { config } = this.deps;
    const listed: string[] = [];
    let missingCount = 0;
    for await (const member of allDocs<MemberDoc>(this.deps.readStore, ORG_MEMBERS, { orgId: org.id, twoFactorEnabled: false })) {
      if (member.forgotten || member.exempt) continue;
      missingCount += 1;
      if (listed.length < DIGEST_LISTED_MEMBERS) listed.push(await this.nameOf(member.userId));
    }
    const soon = now.getTime() + config.ADMIN_DIGEST_EVERY;
    const exemptionsEnding: { member: string; until: string }[] = [];
    for await (const member of allDocs<MemberDoc>(this.deps.readStore, ORG_MEMBERS, { orgId: org.id, exempt: true })) {
      const until = member.exemption?.until;
      if (until && Date.parse(until) <= soon && !member.forgotten) exemptionsEnding.push({ member: await this.nameOf(member.userId), until });
    }
    exemptionsEnding.sort((a, b) => Date.parse(a.until) - Date.parse(b.until));
    return {
      brand: { productName: config.PRODUCT_NAME, color: config.BRAND_COLOR, supportUrl: config.SUPPORT_URL },
      orgName: org.name,
      mode: org.mode === 'hard' ? 'hard' : 'soft',
      missingCount,
      listed,
      exemptionsEnding,
      hardFrom: org.mode === 'soft' ? (org.hardFrom ?? null) : null,
      consoleUrl: pageUrl(config, `console/organisations/${encodeURIComponent(org.id)}`),
      everyMs: config.ADMIN_DIGEST_EVERY,
    };
  }

  /** A member's address, decrypted only to write this mail; the user id when it cannot be read. */
  private async nameOf(userId: string): Promise<string> {
    const user = await this.deps.readStore.get<UserDoc>(USERS, userId);
    if (!user?.email || user.forgotten) return userId;
    const result = await this.deps.cipher.decrypt(userId, EMAIL_PURPOSE, user.email);
    return result.status === 'ok' ? result.plaintext : userId;
  }
}
