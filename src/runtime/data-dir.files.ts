/**
 * The embedded profile's files inside DATA_DIR. Kept apart from the code that opens them so the
 * CLI can check for them without loading the whole runtime.
 */
/** History, data keys and idempotency records. */
export const DATABASE_FILE = 'two-factor.sqlite';
/** Read models, their checkpoints and jobs: everything the projector and scheduler write (see embedded.stores.ts). */
export const DERIVED_DATABASE_FILE = 'two-factor.derived.sqlite';
export const JWT_SECRET_FILE = 'jwt.secret';
export const MASTER_KEY_FILE = 'master.key';
