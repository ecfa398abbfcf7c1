import { createHash } from 'node:crypto';
import type { Config } from '../config/config.js';
import { handleCommand } from '../application/command-handling.js';
import { fold } from '../kernel/decider.js';
import { isDomainError } from '../kernel/domain-error.js';
import type { Doc, Filter, ReadStore } from '../ports/read-store.port.js';
import type { OutgoingMail } from '../ports/mailer.port.js';
import { ORG_MEMBERS, ORGANISATIONS, type MemberDoc, type OrganisationDoc } from '../organisations/directory.projection.js';
import { userDecider, userStream } from '../two-factor/user.decider.js';
import type { NoticeKind, UserEvent } from '../two-factor/user.events.js';
import { memberResetEmail, userNoticeEmail, type Brand, type SecurityEmail } from './notice.email.js';
import { noticeFor, untoldCauseBefore, type CausedEvent, type Notice } from './notice.policy.js';
import { recipientEmail, type MailJobDependencies } from './reminder.sender.js';
import { sendWithRetry, type RetryPolicy } from './send-with-retry.js';

/** The service itself, recording what it did; never granted through a token. */
const NOTICE_ACTOR = { id: 'notice-sender', roles: ['system'] } as const;
/** The same quick retries as a reminder; a job that still fails is retried by the scheduler with backoff. */
const SEND_RETRY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };
const PAGE = 500;

export type NoticeDependencies = MailJobDependencies;

export interface NoticeRunResult {
  readonly sent: number;
  readonly alreadySent: number;
  /** Recipients who get nothing: forgotten, never registered. */
  readonly skipped: number;
}

interface Recipient {
  readonly userId: string;
  readonly kind: NoticeKind;
  readonly compose: () => SecurityEmail;
}

/**
 * Runs one cause's notice job: works out from the user's history which notice the event calls
 * for (if any) and to whom, then per recipient sends it and records `NoticeSent` on the
 * recipient's stream after the SMTP server accepted it. The notice id derives from the cause and
 * the recipient, so a job run again (a retry, lock expiry, a second projector replaying the event)
 * finds it recorded and sends nothing. A failed recipient does not hold the others back; the job
 * then throws, and the scheduler retries it for the ones still missing.
 */
export class NoticeSender {
  constructor(private readonly deps: NoticeDependencies) {}

  async run(userId: string, causeId: string): Promise<NoticeRunResult> {
    const history = (await this.deps.events.readStream(userStream(userId))) as unknown as CausedEvent[];
    const notice = noticeFor(history, causeId);
    const result = { sent: 0, alreadySent: 0, skipped: 0 };
    if (notice === null) return result;
    const recipients = [this.toUser(userId, notice), ...(notice.tellAdmins ? await this.toAdmins(userId, history, notice) : [])];
    let failure: unknown = null;
    for (const recipient of recipients) {
      try {
        result[await this.sendOne(recipient, userId, causeId)] += 1;
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== null) throw failure;
    return result;
  }

  private get brand(): Brand {
    const { config } = this.deps;
    return { productName: config.PRODUCT_NAME, color: config.BRAND_COLOR, supportUrl: config.SUPPORT_URL };
  }

  private toUser(userId: string, notice: Notice): Recipient {
    const manageUrl = pageUrl(this.deps.config, 'two-factor/manage');
    const compose = () => userNoticeEmail({ brand: this.brand, kind: notice.kind, at: notice.at, lockedUntil: notice.lockedUntil, backupCodesLeft: notice.backupCodesLeft, manageUrl });
    return { userId, kind: notice.kind, compose };
  }

  /** Every admin of every organisation the member belongs to, once each, named with the organisations they administer. */
  private async toAdmins(memberId: string, history: readonly UserEvent[], notice: Notice): Promise<Recipient[]> {
    const orgsOfAdmin = new Map<string, string[]>();
    for await (const membership of allDocs<MemberDoc>(this.deps.readStore, ORG_MEMBERS, { userId: memberId })) {
      const org = await this.deps.readStore.get<OrganisationDoc>(ORGANISATIONS, membership.orgId);
      for await (const admin of allDocs<MemberDoc>(this.deps.readStore, ORG_MEMBERS, { orgId: membership.orgId, role: 'admin' })) {
        if (admin.userId === memberId) continue;
        orgsOfAdmin.set(admin.userId, [...(orgsOfAdmin.get(admin.userId) ?? []), org?.name ?? membership.orgId]);
      }
    }
    if (orgsOfAdmin.size === 0) return [];
    const member = (await recipientEmail(this.deps.cipher, memberId, history)) ?? `the user ${memberId}`;
    return [...orgsOfAdmin].map(([adminId, orgNames]) => ({
      userId: adminId,
      kind: 'member_two_factor_reset' as const,
      compose: () => memberResetEmail({ brand: this.brand, at: notice.at, member, orgNames }),
    }));
  }

  private async sendOne(recipient: Recipient, aboutUserId: string, cause: string): Promise<'sent' | 'alreadySent' | 'skipped'> {
    const { events, clock } = this.deps;
    const noticeId = noticeIdOf(cause, recipient.userId);
    const history = (await events.readStream(userStream(recipient.userId))) as unknown as CausedEvent[];
    const state = fold(userDecider, history);
    if (state.status !== 'registered') return 'skipped';
    if (state.noticeIds.includes(noticeId)) return 'alreadySent';
    if (recipient.userId === aboutUserId) {
      const told = (earlier: string) => state.noticeIds.includes(noticeIdOf(earlier, recipient.userId));
      if (untoldCauseBefore(history, cause, clock.now(), told) !== null) throw new EarlierNoticePending();
    }
    const to = await recipientEmail(this.deps.cipher, recipient.userId, history);
    if (to === null) return 'skipped';
    const mail: OutgoingMail = { to, recipientId: recipient.userId, ...recipient.compose(), idempotencyKey: noticeId };
    const sent = await sendWithRetry(this.deps.mailer, mail, SEND_RETRY);
    const now = clock.now();
    const commandId = `notice|${noticeId}`;
    try {
      await handleCommand(
        events,
        userDecider,
        userStream(recipient.userId),
        { type: 'RecordNoticeSent', userId: recipient.userId, noticeId, kind: recipient.kind, cause, aboutUserId, messageId: sent.messageId, sentAt: now.toISOString(), actor: NOTICE_ACTOR, at: now.toISOString() },
        { commandId, correlationId: cause, actor: NOTICE_ACTOR, now },
      );
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'user_forgotten')) throw error;
      // Forgotten while this message was being written: the saga's erasure may have run before it.
      await this.deps.mailer.forgetRecipient(recipient.userId);
      return 'skipped';
    }
    this.deps.logger.info({ userId: recipient.userId, kind: recipient.kind, noticeId }, 'notice sent');
    return 'sent';
  }
}

/**
 * The job of a later notice ran before an earlier one was sent (two scheduler processes, or the
 * earlier one's send failed): it fails, and the scheduler's backoff runs it again after the other.
 */
export class EarlierNoticePending extends Error {
  override readonly name = 'EarlierNoticePending';
  constructor() {
    super('an earlier notice to this user has not been sent yet');
  }
}

/** One notice per cause and recipient: the id is the idempotency key of the mail and of the record. */
export function noticeIdOf(cause: string, recipientId: string): string {
  return createHash('sha256').update(`notice\u0000${cause}\u0000${recipientId}`, 'utf8').digest('hex').slice(0, 32);
}

/** A page of the service (the pages are served under APP_BASE_URL). */
export function pageUrl(config: Pick<Config, 'APP_BASE_URL'>, path: string): string {
  const base = config.APP_BASE_URL.endsWith('/') ? config.APP_BASE_URL : `${config.APP_BASE_URL}/`;
  return new URL(path, base).href;
}

/** Every document of a collection that matches, page by page, so memory stays flat for large organisations. */
export async function* allDocs<T extends Doc>(store: Pick<ReadStore, 'find'>, collection: string, filter: Filter): AsyncGenerator<T> {
  let cursor: string | null = null;
  do {
    const page: { items: T[]; nextCursor: string | null } = await store.find<T>(collection, filter, { limit: PAGE, ...(cursor ? { cursor } : {}) });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}
