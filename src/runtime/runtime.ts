import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { AnswerSealer } from '../ports/answer-sealer.port.js';
import type { IdempotencyStore } from '../ports/idempotency-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import type { Logger } from '../ports/logger.port.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';
import type { TokenKey } from '../http/token-verifier.js';
import type { PagesKeys } from '../ports/pages-keys.port.js';
import type { PersonalDataCipher } from '../personal-data/personal-data.cipher.js';
import type { ReminderSender } from '../reminders/reminder.sender.js';
import type { ExemptionExpiry } from '../organisations/exemption-expiry.worker.js';
import type { EscalationRunner } from '../organisations/escalation.runner.js';
import type { Projection } from '../projections/projection.js';
import type { NoticeSender } from '../reminders/notice.sender.js';
import type { AdminDigests } from '../reminders/admin-digest.sender.js';
import type { ProjectionRunner } from '../projections/projection.runner.js';
import type { ReadModelChanges } from '../projections/read-model.changes.js';

/** Everything the application needs from the outside world, built once per process by a profile. */
export interface Runtime {
  readonly config: Config;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  /** Committed read-model writes, announced in process; null unless this process runs the projector. */
  readonly readModelChanges: ReadModelChanges | null;
  readonly cipher: PersonalDataCipher;
  /** Idempotency-Key records and the keys that fingerprint requests and seal stored answers. */
  readonly idempotency: { readonly store: IdempotencyStore; readonly sealer: AnswerSealer };
  readonly progress: ReadModelProgress;
  readonly tokenKey: TokenKey;
  /** Seals the pages' session cookie and signs the `tfa` assertions they hand to hosts. */
  readonly pagesKeys: PagesKeys;
  /** Runs one user's reminder job by hand (operations, tests); the scheduler calls the same code. */
  readonly reminders: ReminderSender;
  /** Runs one exemption's expiry job by hand (operations, tests); the scheduler calls the same code. */
  readonly exemptions: ExemptionExpiry;
  /** Runs one organisation's scheduled escalation by hand (tests); the scheduler calls the same code. */
  readonly escalations: EscalationRunner;
  /** Runs one cause's security notices by hand (tests); the scheduler calls the same code. */
  readonly notices: NoticeSender;
  /** The admins' digest: fan out the current period, or send one (tests); the scheduler calls the same code. */
  readonly digests: AdminDigests;
  /** Every projection and saga of this service (rebuilds, CLI). */
  readonly projections: readonly Projection[];
  /** The live projector when this process runs the `projector` role, else null. */
  readonly projector: ProjectionRunner | null;
  /** Starts background roles (projector, scheduler) this process runs. */
  start(): Promise<void>;
  /** Stops background roles, then closes connections, in that order. */
  close(): Promise<void>;
}
