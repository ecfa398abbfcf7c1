import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export const MASTER_KEY_BYTES = 32;

export class SecretConfigurationError extends Error {
  override readonly name = 'SecretConfigurationError';
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=?$|^[A-Za-z0-9_-]{43}$/;

/**
 * MASTER_KEY is 64 hex characters or the base64 (or base64url) encoding of 32 bytes. The error
 * names the variable and the expected shape but never echoes the value, which may be a real key.
 */
export function parseMasterKey(value: string, variable = 'MASTER_KEY'): Buffer {
  const trimmed = value.trim();
  if (HEX_KEY.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (BASE64_KEY.test(trimmed)) {
    const key = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
    if (key.length === MASTER_KEY_BYTES) return key;
  }
  throw new SecretConfigurationError(
    `${variable} must be 64 hexadecimal characters or the base64 encoding of ${MASTER_KEY_BYTES} bytes ` +
      `(got ${trimmed.length} characters); generate one with: openssl rand -hex ${MASTER_KEY_BYTES}`,
  );
}

/** MASTER_KEY when set; otherwise the embedded profile's key file, created on first run. */
export function resolveMasterKey(envValue: string | undefined, keyFilePath: string): Buffer {
  return envValue ? parseMasterKey(envValue) : loadOrCreateSecretFile(keyFilePath, MASTER_KEY_BYTES);
}

/**
 * Reads a secret of `bytes` random bytes (stored as hex text, so an operator can move it into an
 * environment variable), creating it on first run. Used for the master key and the JWT secret.
 */
export function loadOrCreateSecretFile(path: string, bytes: number): Buffer {
  if (!Number.isInteger(bytes) || bytes < 16) throw new RangeError('a secret needs at least 16 bytes');
  return tryReadSecretFile(path, bytes) ?? createSecretFile(path, bytes);
}

/** The secret stored at `path`, or null when there is none; never creates one. */
export function tryReadSecretFile(path: string, bytes: number): Buffer | null {
  let stats;
  try {
    stats = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  if (!stats.isFile()) throw new SecretConfigurationError(`secret file ${path} is not a regular file`);
  assertOwnerOnly(path, stats.mode);
  const text = readFileSync(path, 'utf8').trim();
  if (text.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(text)) {
    throw new SecretConfigurationError(`secret file ${path} must hold exactly ${bytes * 2} hexadecimal characters`);
  }
  return Buffer.from(text, 'hex');
}

/** Group or world access to a key file would let any local account read every user's data. */
function assertOwnerOnly(path: string, mode: number): void {
  if (process.platform === 'win32') return;
  const permissions = mode & 0o777;
  if ((permissions & 0o077) === 0) return;
  throw new SecretConfigurationError(
    `secret file ${path} has permissions 0${permissions.toString(8)}, wider than 0600; ` +
      `restrict it with: chmod 600 ${path}`,
  );
}

/**
 * Writes a temporary file created exclusively ('wx', 0600), fsyncs it, then hard-links it into
 * place: link() refuses to replace an existing file, so two processes starting at once never
 * overwrite each other's key, and nobody ever reads a half-written one. The loser reads the winner's.
 */
function createSecretFile(path: string, bytes: number): Buffer {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const secret = randomBytes(bytes);
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${secret.toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    secret.fill(0);
    return readExisting(path, bytes);
  } finally {
    unlinkSync(temporary);
  }
  syncDirectory(dirname(path));
  return secret;
}

function readExisting(path: string, bytes: number): Buffer {
  const secret = tryReadSecretFile(path, bytes);
  if (!secret) throw new SecretConfigurationError(`secret file ${path} vanished while it was being created`);
  return secret;
}

/** Without a directory fsync the new name may not survive a crash even though the data did. */
function syncDirectory(directory: string): void {
  const fd = openSync(directory, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
