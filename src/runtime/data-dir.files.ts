/**
 * The embedded profile's files inside DATA_DIR. Kept apart from the code that opens them so the
 * CLI can check for them without loading the whole runtime.
 */
export const DATABASE_FILE = 'two-factor.sqlite';
export const JWT_SECRET_FILE = 'jwt.secret';
export const MASTER_KEY_FILE = 'master.key';
