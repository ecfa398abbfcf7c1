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
