import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { handleCommand } from '../application/command-handling.js';
import { fold } from '../kernel/decider.js';
import { isDomainError } from '../kernel/domain-error.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { Logger } from '../ports/logger.port.js';
import type { Mailer } from '../ports/mailer.port.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';
import { sendWithRetry } from './send-with-retry.js';
import { ORGANISATIONS, type OrganisationDoc } from '../organisations/directory.projection.js';
import { EMAIL_PURPOSE } from '../two-factor/two-factor.flows.js';
import { userDecider, userStream } from '../two-factor/user.decider.js';
import type { UserEvent } from '../two-factor/user.events.js';
import { reminderEmail, type ReminderOrg } from './reminder.email.js';
import { cadenceAt, hardeningAfter, nextReminderAt, periodKey, type ReminderIntervals } from './reminder.policy.js';
import { enforcingModes, REMINDER_SUBJECTS, toSubject, type SubjectDoc } from './reminder.saga.js';

export type ReminderOutcome = 'sent' | 'not_due' | 'already_sent' | 'not_subject';

/** The service itself, recording what it did; never granted through a token. */
const SCHEDULER_ACTOR = { id: 'reminder-scheduler', roles: ['system'] } as const;
/** A job may fire a little early (clock skew between instances); it still belongs to its period. */
const EARLY_TOLERANCE_MS = 1_000;
/**
 * How long a job waits for the saga to commit the subject document it was scheduled with, before
 * it fails and Agenda retries it (the saga commits right after it has scheduled the event's jobs).
 */
const SUBJECT_WAIT_MS = 10_000;

export class SubjectNotProjectedError extends Error {
  override readonly name = 'SubjectNotProjectedError';
}

/** What every job that mails users and records it needs: reminders, notices, admins' digests. */
export interface MailJobDependencies {
  readonly events: EventStore;
  readonly readStore: ReadStore;
  readonly cipher: PersonalDataCipher;
  readonly mailer: Mailer;
  readonly clock: Clock;
  readonly config: Config;
  readonly logger: Logger;
}

/**
 * Runs one user's reminder job: re-checks from current state that a reminder is due and not yet
 * sent for this period, sends it, and records ReminderSent only after the server accepted it.
 */
export class ReminderSender {
  constructor(
    private readonly deps: MailJobDependencies & { readonly intervals: ReminderIntervals; readonly sagaProgress: Pick<ReadModelProgress, 'waitFor'> },
  ) {}

  /**
   * `after`: the position of the event whose projection scheduled the job. The job can run before
   * the saga commits the document it reads; judged on the older document, it would end as
   * `not_subject` and the reminder would be lost until the user's next event.
   */
  async run(userId: string, after: string | null = null): Promise<ReminderOutcome> {
    const { readStore, events, clock, intervals } = this.deps;
    if (after !== null && !(await this.deps.sagaProgress.waitFor(after, SUBJECT_WAIT_MS))) {
      throw new SubjectNotProjectedError(`the reminder saga has not reached position ${after}`);
    }
    const doc = await readStore.get<SubjectDoc>(REMINDER_SUBJECTS, userId);
    if (!doc) return 'not_subject';
    const subject = toSubject(doc);
    const due = nextReminderAt(subject, intervals);
    const now = clock.now();
    const cadence = cadenceAt(subject, now);
    if (!cadence || !due) return 'not_subject';
    if (due.getTime() > now.getTime() + EARLY_TOLERANCE_MS) return 'not_due';
    const key = periodKey(subject, due);
    const history = (await events.readStream(userStream(userId))) as unknown as UserEvent[];
    const state = fold(userDecider, history);
    if (state.status !== 'registered' || state.factor.kind === 'enabled') return 'not_subject';
    if (state.reminderPeriodKeys.includes(key)) return 'already_sent';
    const to = await recipientEmail(this.deps.cipher, userId, history);
    if (to === null) return 'not_subject';
    const orgIds = Object.entries(enforcingModes(doc)).filter(([, mode]) => mode !== 'off').map(([k]) => doc.orgIds[k]!).sort();
    const orgs = await this.orgs(orgIds);
    const { config } = this.deps;
    const intervalMs = cadence === 'hard' ? config.REMINDER_HARD_EVERY : config.REMINDER_SOFT_EVERY;
    const content = reminderEmail({
      productName: config.PRODUCT_NAME, orgs, cadence, intervalMs, deadline: cadence === 'soft' ? hardeningAfter(subject, now) : null, now: now.toISOString(),
      appBaseUrl: config.APP_BASE_URL, enforcementPageUrl: config.ENFORCEMENT_PAGE_URL, supportUrl: config.SUPPORT_URL,
    });
    const sent = await sendWithRetry(this.deps.mailer, { to, recipientId: userId, ...content, idempotencyKey: `${userId}|${key}` }, { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 });
    const commandId = `reminder|${userId}|${key}`;
    try {
      await handleCommand(
        events,
        userDecider,
        userStream(userId),
        { type: 'RecordReminderSent', userId, orgIds, cadence, messageId: sent.messageId, sentAt: now.toISOString(), periodKey: key, actor: SCHEDULER_ACTOR, at: now.toISOString() },
        { commandId, correlationId: commandId, actor: SCHEDULER_ACTOR, now },
      );
    } catch (error) {
      if (!(isDomainError(error) && error.code === 'user_forgotten')) throw error;
      // Forgotten while this message was being written: the saga's erasure may have run before it.
      await this.deps.mailer.forgetRecipient(userId);
      return 'not_subject';
    }
    this.deps.logger.info({ userId, cadence, periodKey: key }, 'reminder sent');
    return 'sent';
  }


  private async orgs(orgIds: readonly string[]): Promise<ReminderOrg[]> {
    const docs = await Promise.all(orgIds.map((id) => this.deps.readStore.get<OrganisationDoc>(ORGANISATIONS, id)));
    return docs.map((doc, i) => ({ name: doc?.name ?? orgIds[i]!, xeroConnected: doc?.xeroConnected ?? false }));
  }
}

/**
 * The one way a mail's address is found: decrypted from the user's registration, only to write
 * the message. Null for a forgotten user (the data key is gone) or one never registered.
 */
export async function recipientEmail(cipher: PersonalDataCipher, userId: string, history: readonly UserEvent[]): Promise<string | null> {
  const registered = history.find((e) => e.type === 'UserRegistered');
  if (registered?.type !== 'UserRegistered') return null;
  const result = await cipher.decrypt(userId, EMAIL_PURPOSE, registered.data.email);
  return result.status === 'ok' ? result.plaintext : null;
}
