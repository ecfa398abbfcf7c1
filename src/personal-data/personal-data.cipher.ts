import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { SystemClock, type Clock } from '../kernel/clock.js';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import { DataKeyCache, type DataKey } from './data-key.cache.js';
import { DataKeyExistsError, DataKeyShreddedError, type KeyStore, type WrappedKey } from '../ports/key-store.port.js';

export type DecryptResult = { readonly status: 'ok'; readonly plaintext: string } | { readonly status: 'shredded' };

export type DecryptionFailure = 'malformed' | 'unknown_key' | 'authentication_failed';

/**
 * A stored value could not be read back: its bytes, its AAD (user, purpose) or its key id do not
 * match. Never carries the value or any key material, only ids.
 */
export class PersonalDataDecryptionError extends Error {
  override readonly name = 'PersonalDataDecryptionError';
  constructor(
    readonly reason: DecryptionFailure,
    readonly userId: string,
    readonly purpose: string,
  ) {
    super(`${purpose} of user ${userId} cannot be decrypted: ${reason.replace('_', ' ')}`);
  }
}

/** The wrapped data key fails authentication: a different MASTER_KEY, or a tampered key store. */
export class DataKeyUnwrapError extends Error {
  override readonly name = 'DataKeyUnwrapError';
  constructor(readonly userId: string) {
    super(`data key of user ${userId} cannot be unwrapped: MASTER_KEY differs from the one that wrapped it, or the key store was altered`);
  }
}

export { DataKeyShreddedError };

export interface PersonalDataCipherOptions {
  readonly maxCachedKeys?: number;
  /** Bounds how long a forget made through another instance can go unnoticed here. */
  readonly cacheMaxAgeMs?: number;
  readonly clock?: Clock;
}

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
/** 96-bit random nonces: NIST SP 800-38D 8.2.2; far below 2^32 values per key for one user's data. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PURPOSE_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * Envelope encryption of personal data and TOTP secrets: one data key per user, wrapped by the
 * master key. Deleting the data key (forget) makes every value of that user unreadable while the
 * events holding them stay intact and hash-verifiable (crypto-shredding).
 */
export class PersonalDataCipher {
  private readonly masterKey: Buffer;
  private readonly cache: DataKeyCache;

  constructor(
    private readonly keyStore: KeyStore,
    masterKey: Buffer,
    options: PersonalDataCipherOptions = {},
  ) {
    if (masterKey.length !== KEY_BYTES) throw new RangeError(`master key must be ${KEY_BYTES} bytes`);
    this.masterKey = Buffer.from(masterKey);
    this.cache = new DataKeyCache(options.maxCachedKeys ?? 10_000, options.cacheMaxAgeMs ?? 60_000, options.clock ?? new SystemClock());
  }

  /** Creates the user's data key on first use; throws DataKeyShreddedError for a forgotten user. */
  async encrypt(userId: string, purpose: string, plaintext: string): Promise<EncryptedValue> {
    assertPurpose(purpose);
    return this.encryptWith(await this.loadOrCreateKey(userId), userId, purpose, plaintext);
  }

  /**
   * Encrypts only under a key the user already has: for data about a request rather than about
   * the user (a stored answer), which must not create a key for an id nobody registered.
   */
  async encryptWithExistingKey(userId: string, purpose: string, plaintext: string): Promise<EncryptedValue | 'no_key' | 'shredded'> {
    assertPurpose(purpose);
    const dataKey = await this.loadKey(userId);
    if (dataKey === null) return 'no_key';
    if (dataKey === 'shredded') return 'shredded';
    return this.encryptWith(dataKey, userId, purpose, plaintext);
  }

  private encryptWith(dataKey: DataKey, userId: string, purpose: string, plaintext: string): EncryptedValue {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, dataKey.key, iv, { authTagLength: TAG_BYTES });
    dataKey.key.fill(0);
    cipher.setAAD(valueAad(userId, purpose, dataKey.keyId));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      keyId: dataKey.keyId,
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  async decrypt(userId: string, purpose: string, value: EncryptedValue): Promise<DecryptResult> {
    assertPurpose(purpose);
    const parts = parseValue(value);
    if (!parts) throw new PersonalDataDecryptionError('malformed', userId, purpose);
    const dataKey = await this.loadKey(userId);
    if (dataKey === 'shredded') return { status: 'shredded' };
    if (!dataKey || dataKey.keyId !== value.keyId) {
      dataKey?.key.fill(0);
      throw new PersonalDataDecryptionError('unknown_key', userId, purpose);
    }
    const decipher = createDecipheriv(ALGORITHM, dataKey.key, parts.iv, { authTagLength: TAG_BYTES });
    dataKey.key.fill(0);
    decipher.setAAD(valueAad(userId, purpose, dataKey.keyId));
    decipher.setAuthTag(parts.tag);
    try {
      const plaintext = Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
      return { status: 'ok', plaintext };
    } catch {
      throw new PersonalDataDecryptionError('authentication_failed', userId, purpose);
    }
  }

  /**
   * A keyed blind index (HMAC-SHA256) of a value, to find or keep unique what is stored only
   * encrypted (an e-mail address) without storing it in clear. The key is derived from the master
   * key with HKDF and a per-purpose label, so it is never the key that wraps data keys, and an
   * index of one purpose cannot be matched against another's.
   */
  blindIndex(purpose: string, value: string): string {
    assertPurpose(purpose);
    const key = Buffer.from(hkdfSync('sha256', this.masterKey, Buffer.alloc(0), `blind-index/v1/${purpose}`, KEY_BYTES));
    try {
      return createHmac('sha256', key).update(value, 'utf8').digest('hex');
    } finally {
      key.fill(0);
    }
  }

  /** Evicts before and after the store delete so a concurrent read cannot re-cache the key. */
  async forget(userId: string): Promise<void> {
    this.cache.evict(userId);
    await this.keyStore.delete(userId);
    this.cache.evict(userId);
  }

  /** Returns a key buffer the caller owns and must zero once its cipher is created. */
  private async loadOrCreateKey(userId: string): Promise<DataKey> {
    const existing = await this.loadKey(userId);
    if (existing === 'shredded') throw new DataKeyShreddedError(userId);
    if (existing) return existing;
    const key = randomBytes(KEY_BYTES);
    const wrapped = this.wrap(userId, key);
    try {
      await this.keyStore.create(wrapped);
    } catch (error) {
      key.fill(0);
      if (!(error instanceof DataKeyExistsError)) throw error;
      // Another writer created the user's key first; use theirs so all values share one key.
      const winner = await this.loadKey(userId);
      if (winner === 'shredded') throw new DataKeyShreddedError(userId);
      if (!winner) throw error;
      return winner;
    }
    const dataKey = { keyId: wrapped.keyId, key };
    this.cache.set(userId, dataKey);
    return dataKey;
  }

  private async loadKey(userId: string): Promise<DataKey | 'shredded' | null> {
    const cached = this.cache.get(userId);
    if (cached) return cached;
    const wrapped = await this.keyStore.get(userId);
    if (wrapped === null || wrapped === 'shredded') return wrapped;
    const dataKey = { keyId: wrapped.keyId, key: this.unwrap(wrapped) };
    this.cache.set(userId, dataKey);
    return dataKey;
  }

  private wrap(userId: string, key: Buffer): WrappedKey {
    const keyId = randomUUID();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.masterKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(wrapAad(userId, keyId));
    const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
    return {
      userId,
      keyId,
      iv: iv.toString('base64'),
      ciphertext: ciphertext.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      createdAt: new Date().toISOString(),
    };
  }

  private unwrap(wrapped: WrappedKey): Buffer {
    try {
      const decipher = createDecipheriv(ALGORITHM, this.masterKey, Buffer.from(wrapped.iv, 'base64'), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(wrapAad(wrapped.userId, wrapped.keyId));
      decipher.setAuthTag(Buffer.from(wrapped.tag, 'base64'));
      const key = Buffer.concat([decipher.update(Buffer.from(wrapped.ciphertext, 'base64')), decipher.final()]);
      if (key.length !== KEY_BYTES) throw new RangeError('wrong data key length');
      return key;
    } catch {
      throw new DataKeyUnwrapError(wrapped.userId);
    }
  }
}

/** JSON arrays keep the AAD fields unambiguous whatever characters an id or label contains. */
function wrapAad(userId: string, keyId: string): Buffer {
  return Buffer.from(JSON.stringify(['tfe/data-key/v1', userId, keyId]), 'utf8');
}

function valueAad(userId: string, purpose: string, keyId: string): Buffer {
  return Buffer.from(JSON.stringify(['tfe/value/v1', userId, purpose, keyId]), 'utf8');
}

function assertPurpose(purpose: string): void {
  if (!PURPOSE_PATTERN.test(purpose)) throw new RangeError('purpose must be a lowercase label such as "email"');
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseValue(value: EncryptedValue): { iv: Buffer; ciphertext: Buffer; tag: Buffer } | null {
  const fields = [value.keyId, value.iv, value.ciphertext, value.tag];
  if (!fields.every((f) => typeof f === 'string')) return null;
  if (![value.iv, value.ciphertext, value.tag].every((f) => BASE64.test(f) && f.length % 4 === 0)) return null;
  const iv = Buffer.from(value.iv, 'base64');
  const tag = Buffer.from(value.tag, 'base64');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return null;
  return { iv, ciphertext: Buffer.from(value.ciphertext, 'base64'), tag };
}
