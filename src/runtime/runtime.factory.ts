import { hostname } from 'node:os';
import { join } from 'node:path';
import { Agenda } from 'agenda';
import type { Config } from '../config/config.js';
import { SystemClock, type Clock } from '../kernel/clock.js';
import type { TokenKey } from '../http/token-verifier.js';
import type { Projection } from '../projections/projection.js';
import { ProjectionRunner } from '../projections/projection.runner.js';
import { CheckpointProgress, type ReadModelProgress } from '../projections/read-model-progress.js';
import { REMINDER_SAGA } from '../reminders/reminder.saga.js';
import { ChangeAnnouncingReadStore } from '../projections/read-model.changes.js';
import { loadOrCreateSecretFile, resolveMasterKey } from '../infrastructure/crypto/master-key.js';
import { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import { IdempotentAnswerSealer } from '../personal-data/idempotent-answer.sealer.js';
import { DerivedPagesKeys } from '../personal-data/pages.keys.js';
import { embeddedProfileStores } from './embedded.stores.js';
import { JWT_SECRET_FILE, MASTER_KEY_FILE } from './data-dir.files.js';
import type { ProfileStores } from './profile.stores.js';
import { createLogger } from '../infrastructure/logging/pino.logger.js';
import type { Runtime } from './runtime.js';
import { NodemailerMailer } from '../infrastructure/mail/nodemailer.mailer.js';
import type { Mailer } from '../ports/mailer.port.js';
import { AgendaReminderJobs } from '../reminders/agenda.reminder-jobs.js';
import type { ReminderJobs } from '../reminders/reminder-jobs.port.js';
import type { ReminderIntervals } from '../reminders/reminder.policy.js';
import { ReminderSender } from '../reminders/reminder.sender.js';
import { rescheduleReminders } from '../reminders/reminder.reschedule.js';
import { defineReminderJob } from '../reminders/reminder.worker.js';
import { AgendaExemptionExpiryJobs, type ExemptionExpiryJobs } from '../organisations/exemption-expiry.jobs.js';
import { defineExemptionExpiryJob, ExemptionExpiry } from '../organisations/exemption-expiry.worker.js';
import { AgendaEscalationJobs, defineEscalationJob, type EscalationJobs } from '../organisations/escalation.jobs.js';
import { EscalationRunner } from '../organisations/escalation.runner.js';
import { AgendaNoticeJobs, defineNoticeJob, type NoticeJobs } from '../reminders/notice.jobs.js';
import { NoticeSender } from '../reminders/notice.sender.js';
import { AdminDigests } from '../reminders/admin-digest.sender.js';
import { AgendaDigestJobs, defineDigestJobs, ensurePeriodJob } from '../reminders/admin-digest.jobs.js';

/** What projections and sagas may need from the runtime that builds them. */
export interface ProjectionDependencies {
  readonly reminderJobs: ReminderJobs;
  readonly intervals: ReminderIntervals;
  readonly mailer: Mailer;
  readonly exemptionJobs: ExemptionExpiryJobs;
  readonly escalationJobs: EscalationJobs;
  readonly noticeJobs: NoticeJobs;
  readonly clock: Clock;
}

export interface RuntimeOptions {
  readonly projections: (deps: ProjectionDependencies) => readonly Projection[];
  readonly clock?: Clock;
  readonly logDestination?: NodeJS.WritableStream;
}


export async function buildRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const logger = createLogger(config.LOG_LEVEL, options.logDestination);
  const clock = options.clock ?? new SystemClock();
  const stores = config.PROFILE === 'embedded' ? await embeddedProfileStores(config) : await productionStores(config);
  const masterKey = resolveMasterKey(config.MASTER_KEY, join(config.DATA_DIR, MASTER_KEY_FILE));
  const cipher = new PersonalDataCipher(stores.keyStore, masterKey, { clock });
  const intervals = { soft: config.REMINDER_SOFT_EVERY, hard: config.REMINDER_HARD_EVERY };
  const agenda = new Agenda({
    backend: stores.agendaBackend,
    name: `${hostname()}-${process.pid}`,
    processEvery: config.SCHEDULER_PROCESS_EVERY,
    defaultLockLifetime: 120_000,
    // Reminder jobs mostly wait on SMTP and disk; more of them in flight keeps a core busy.
    maxConcurrency: 50,
  });
  const mailer = new NodemailerMailer({ smtpUrl: config.SMTP_URL, smtpConnections: config.SMTP_MAX_CONNECTIONS, outboxDir: join(config.DATA_DIR, 'outbox'), from: config.MAIL_FROM });
  const sagaProgress = new CheckpointProgress(stores.eventStore, stores.readStore, [REMINDER_SAGA]);
  const sender = new ReminderSender({ events: stores.eventStore, readStore: stores.readStore, cipher, mailer, clock, config, logger, intervals, sagaProgress });
  defineReminderJob(agenda, sender, logger);
  const reminderJobs = new AgendaReminderJobs(agenda);
  const exemptions = new ExemptionExpiry({ events: stores.eventStore, clock, logger });
  defineExemptionExpiryJob(agenda, exemptions, logger);
  const escalations = new EscalationRunner({ events: stores.eventStore, clock });
  defineEscalationJob(agenda, escalations, logger);
  const mailDeps = { events: stores.eventStore, readStore: stores.readStore, cipher, mailer, clock, config, logger };
  const notices = new NoticeSender(mailDeps);
  defineNoticeJob(agenda, notices, logger);
  const digests = new AdminDigests({ ...mailDeps, jobs: new AgendaDigestJobs(agenda) });
  defineDigestJobs(agenda, digests, logger);
  const projections = options.projections({
    reminderJobs, intervals, mailer, exemptionJobs: new AgendaExemptionExpiryJobs(agenda), escalationJobs: new AgendaEscalationJobs(agenda), noticeJobs: new AgendaNoticeJobs(agenda), clock,
  });
  const runsProjector = config.ROLES.includes('projector');
  const runsScheduler = config.ROLES.includes('scheduler');
  // Only the projector's process sees every read-model write, so only it can keep in-process caches fresh.
  const readStore = runsProjector ? new ChangeAnnouncingReadStore(stores.readStore) : stores.readStore;
  const runner = runsProjector ? new ProjectionRunner(stores.eventStore, readStore, projections, logger) : null;
  const progress: ReadModelProgress = runner ?? new CheckpointProgress(stores.eventStore, stores.readStore, projections.map((p) => p.name));
  const apiTokenKey = tokenKey(config);
  return {
    config,
    clock,
    logger,
    eventStore: stores.eventStore,
    readStore,
    readModelChanges: readStore instanceof ChangeAnnouncingReadStore ? readStore : null,
    cipher,
    idempotency: { store: stores.idempotencyStore, sealer: new IdempotentAnswerSealer(cipher, masterKey) },
    progress,
    tokenKey: apiTokenKey,
    pagesKeys: new DerivedPagesKeys(masterKey, apiTokenKey.kind === 'secret' ? apiTokenKey.secret : null),
    reminders: sender,
    exemptions,
    escalations,
    notices,
    digests,
    projections,
    projector: runner,
    async start() {
      await agenda.ready;
      // Before the saga runs: both write the reminder subjects.
      if (runner) await rescheduleReminders(stores.readStore, reminderJobs, intervals, logger);
      await runner?.start();
      if (runsScheduler) {
        await ensurePeriodJob(agenda, new Date(digests.currentPeriod()));
        await agenda.start();
      }
    },
    async close() {
      await runner?.stop();
      // drain lets running jobs finish (and record what they sent) instead of unlocking them mid-send.
      if (runsScheduler) await agenda.drain({ timeout: 10_000 });
      else await agenda.stop();
      await mailer.close();
      await stores.close();
    },
  };
}

function tokenKey(config: Config): TokenKey {
  if (config.AUTH_JWKS_URL) return { kind: 'jwks', url: config.AUTH_JWKS_URL };
  if (config.AUTH_JWT_SECRET) return { kind: 'secret', secret: new TextEncoder().encode(config.AUTH_JWT_SECRET) };
  return { kind: 'secret', secret: loadOrCreateSecretFile(join(config.DATA_DIR, JWT_SECRET_FILE), 32) };
}

/** The production drivers load only when that profile runs, so the embedded profile never needs them. */
async function productionStores(config: Config): Promise<ProfileStores> {
  const { productionProfileStores } = await import('./production.stores.js');
  return productionProfileStores(config);
}
