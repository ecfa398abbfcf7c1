/**
 * Injection tokens for the ports. Symbols rather than strings so that two modules can never
 * collide on a name.
 */
export const EVENT_STORE = Symbol('EventStore');
export const READ_STORE = Symbol('ReadStore');
export const CLOCK = Symbol('Clock');
export const LOGGER = Symbol('Logger');
export const CONFIG = Symbol('Config');
export const PERSONAL_DATA_CIPHER = Symbol('PersonalDataCipher');
export const READ_MODEL_PROGRESS = Symbol('ReadModelProgress');
export const SCHEDULER = Symbol('Scheduler');
export const MAILER = Symbol('Mailer');
export const IDEMPOTENCY_STORE = Symbol('IdempotencyStore');
export const PAGES_KEYS = Symbol('PagesKeys');
/** How API tokens (and the pages' hand-off tokens) are verified: a shared secret or a JWKS URL. */
export const TOKEN_KEY = Symbol('TokenKey');
/** In-process notice of committed read-model writes (null unless this process runs the projector). */
export const READ_MODEL_CHANGES = Symbol('ReadModelChanges');
