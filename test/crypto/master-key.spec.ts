import { randomBytes } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  loadOrCreateSecretFile,
  parseMasterKey,
  resolveMasterKey,
  SecretConfigurationError,
} from '../../src/infrastructure/crypto/master-key.js';
import { makeTempDir } from '../support/temp-dir.js';

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it.each([
    ['64 hex characters', key.toString('hex')],
    ['upper-case hex', key.toString('hex').toUpperCase()],
    ['base64', key.toString('base64')],
    ['base64url', key.toString('base64url')],
    ['a value with surrounding whitespace', `  ${key.toString('hex')}\n`],
  ])('accepts %s', (_, value) => {
    expect(parseMasterKey(value).equals(key)).toBe(true);
  });

  it.each([
    ['an empty value', ''],
    ['a passphrase', 'correct horse battery staple'],
    ['63 hex characters', key.toString('hex').slice(1)],
    ['65 hex characters', `${key.toString('hex')}a`],
    ['base64 of 16 bytes', randomBytes(16).toString('base64')],
    ['base64 of 48 bytes', randomBytes(48).toString('base64')],
    ['hex with a non-hex character', `${key.toString('hex').slice(1)}g`],
  ])('refuses %s, naming MASTER_KEY without echoing the value', (_, value) => {
    const error = captureSync(() => parseMasterKey(value));
    expect(error).toBeInstanceOf(SecretConfigurationError);
    expect(error.message).toContain('MASTER_KEY');
    if (value.length > 0) expect(error.message).not.toContain(value);
  });
});

describe('loadOrCreateSecretFile', () => {
  let dir: ReturnType<typeof makeTempDir>;

  beforeEach(() => {
    dir = makeTempDir('tfe-secret-');
  });

  afterEach(() => {
    dir.remove();
  });

  it('creates a random secret readable by its owner only, creating the directory as needed', () => {
    const path = join(dir.path, 'nested', 'master.key');
    const secret = loadOrCreateSecretFile(path, 32);
    expect(secret).toHaveLength(32);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(secret.toString('hex'));
    expect(readdirSync(join(dir.path, 'nested'))).toEqual(['master.key']);
  });

  it('returns the same secret on every later start', () => {
    const path = join(dir.path, 'master.key');
    const first = loadOrCreateSecretFile(path, 32);
    expect(loadOrCreateSecretFile(path, 32).equals(first)).toBe(true);
    expect(loadOrCreateSecretFile(path, 32).equals(first)).toBe(true);
  });

  it('makes a different secret per file and honours the requested size', () => {
    const jwt = loadOrCreateSecretFile(join(dir.path, 'jwt.secret'), 48);
    const master = loadOrCreateSecretFile(join(dir.path, 'master.key'), 32);
    expect(jwt).toHaveLength(48);
    expect(jwt.subarray(0, 32).equals(master)).toBe(false);
  });

  it.each(['644', '640', '604', '660'])('refuses a file with permissions 0%s and says how to fix it', (octal) => {
    const mode = parseInt(octal, 8);
    const path = join(dir.path, 'master.key');
    loadOrCreateSecretFile(path, 32);
    chmodSync(path, mode);
    const error = captureSync(() => loadOrCreateSecretFile(path, 32));
    expect(error).toBeInstanceOf(SecretConfigurationError);
    expect(error.message).toContain(`chmod 600 ${path}`);
    expect(error.message).toContain(`0${octal}`);
  });

  it('accepts a file narrowed to 0400', () => {
    const path = join(dir.path, 'master.key');
    const secret = loadOrCreateSecretFile(path, 32);
    chmodSync(path, 0o400);
    expect(loadOrCreateSecretFile(path, 32).equals(secret)).toBe(true);
  });

  it('refuses a file with the wrong content without echoing it', () => {
    const path = join(dir.path, 'master.key');
    writeFileSync(path, 'hunter2-not-a-key\n', { mode: 0o600 });
    const error = captureSync(() => loadOrCreateSecretFile(path, 32));
    expect(error).toBeInstanceOf(SecretConfigurationError);
    expect(error.message).toContain(path);
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a symbolic link in place of the file', () => {
    const target = join(dir.path, 'elsewhere.key');
    loadOrCreateSecretFile(target, 32);
    const path = join(dir.path, 'master.key');
    symlinkSync(target, path);
    expect(captureSync(() => loadOrCreateSecretFile(path, 32))).toBeInstanceOf(SecretConfigurationError);
  });

  it('refuses secrets too short to be secrets', () => {
    expect(() => loadOrCreateSecretFile(join(dir.path, 'tiny.key'), 8)).toThrow(RangeError);
  });

  it('prefers MASTER_KEY and falls back to the key file', () => {
    const path = join(dir.path, 'master.key');
    const fromEnv = randomBytes(32);
    expect(resolveMasterKey(fromEnv.toString('hex'), path).equals(fromEnv)).toBe(true);
    expect(readdirSync(dir.path)).toEqual([]);
    const fromFile = resolveMasterKey(undefined, path);
    expect(fromFile.equals(loadOrCreateSecretFile(path, 32))).toBe(true);
    expect(() => resolveMasterKey('too-short', path)).toThrow(/MASTER_KEY/);
  });
});

function captureSync(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, none was thrown');
}
