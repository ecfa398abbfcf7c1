import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FakeClock } from '../../src/kernel/clock.js';
import type { EncryptedValue } from '../../src/kernel/encrypted-value.js';
import { DataKeyShreddedError, type WrappedKey } from '../../src/ports/key-store.port.js';
import {
  DataKeyUnwrapError,
  PersonalDataCipher,
  PersonalDataDecryptionError,
} from '../../src/personal-data/personal-data.cipher.js';
import { SqliteKeyStore } from '../../src/infrastructure/crypto/sqlite.key-store.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { makeTempDir } from '../support/temp-dir.js';

const EMAIL = 'ada.lovelace@example.com';
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

describe('PersonalDataCipher', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let store: SqliteKeyStore;
  let masterKey: Buffer;
  let cipher: PersonalDataCipher;

  beforeEach(() => {
    dir = makeTempDir('tfe-cipher-');
    db = openSqlite(join(dir.path, 'data.sqlite'));
    store = new SqliteKeyStore(db);
    masterKey = randomBytes(32);
    cipher = new PersonalDataCipher(store, masterKey);
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  /** Another instance sharing the key store, with its own (cold) cache. */
  const otherInstance = (options = {}): PersonalDataCipher => new PersonalDataCipher(store, masterKey, options);

  function flipFirstByte(base64: string): string {
    const bytes = Buffer.from(base64, 'base64');
    bytes[0] = bytes[0]! ^ 0x01;
    return bytes.toString('base64');
  }

  async function decryptionError(run: () => Promise<unknown>): Promise<PersonalDataDecryptionError> {
    const error = await run().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PersonalDataDecryptionError);
    return error as PersonalDataDecryptionError;
  }

  describe('round trip', () => {
    it('decrypts what it encrypted, here and on another instance', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);

      await expect(cipher.decrypt('alice', 'email', value)).resolves.toEqual({ status: 'ok', plaintext: EMAIL });
      await expect(otherInstance().decrypt('alice', 'email', value)).resolves.toEqual({ status: 'ok', plaintext: EMAIL });
    });

    it('creates the data key on first use and stores it wrapped under the value key id', async () => {
      await expect(store.get('alice')).resolves.toBeNull();
      const value = await cipher.encrypt('alice', 'totp-secret', SECRET);
      const stored = (await store.get('alice')) as WrappedKey;
      expect(stored.keyId).toBe(value.keyId);
      expect(Buffer.from(stored.ciphertext, 'base64')).toHaveLength(32);
    });

    it('keeps one key per user however many values are encrypted at once', async () => {
      const values = await Promise.all([1, 2, 3, 4, 5].map((n) => cipher.encrypt('alice', 'email', `${n}${EMAIL}`)));
      expect(new Set(values.map((v) => v.keyId)).size).toBe(1);
      const fresh = otherInstance();
      for (const [i, value] of values.entries()) {
        await expect(fresh.decrypt('alice', 'email', value)).resolves.toEqual({ status: 'ok', plaintext: `${i + 1}${EMAIL}` });
      }
    });

    it('gives each user their own key, also when two instances race for the first one', async () => {
      const [a, b] = await Promise.all([cipher.encrypt('carol', 'email', EMAIL), otherInstance().encrypt('carol', 'email', EMAIL)]);
      expect(a.keyId).toBe(b.keyId);
      const bob = await cipher.encrypt('bob', 'email', EMAIL);
      expect(bob.keyId).not.toBe(a.keyId);
      await expect(cipher.decrypt('carol', 'email', b)).resolves.toEqual({ status: 'ok', plaintext: EMAIL });
    });

    it('hides the plaintext and never repeats a ciphertext', async () => {
      const first = await cipher.encrypt('alice', 'email', EMAIL);
      const second = await cipher.encrypt('alice', 'email', EMAIL);
      expect(JSON.stringify(first)).not.toContain(EMAIL);
      expect(Buffer.from(first.ciphertext, 'base64').includes(Buffer.from(EMAIL))).toBe(false);
      expect(first.iv).not.toBe(second.iv);
      expect(first.ciphertext).not.toBe(second.ciphertext);
    });

    it('round-trips non-ASCII text and the empty string', async () => {
      for (const text of ['zoë.ßtraße@例え.jp', '']) {
        const value = await cipher.encrypt('alice', 'email', text);
        await expect(cipher.decrypt('alice', 'email', value)).resolves.toEqual({ status: 'ok', plaintext: text });
      }
    });
  });

  describe('binding to user and purpose', () => {
    it("refuses to read one user's value as another's", async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      await cipher.encrypt('bob', 'email', 'bob@example.com');
      const error = await decryptionError(() => cipher.decrypt('bob', 'email', value));
      expect(error.reason).toBe('unknown_key');
    });

    it('refuses to read a value under another purpose', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      const error = await decryptionError(() => cipher.decrypt('alice', 'totp-secret', value));
      expect(error.reason).toBe('authentication_failed');
    });

    it('refuses a wrapped key moved to another user', async () => {
      await cipher.encrypt('alice', 'email', EMAIL);
      const alices = (await store.get('alice')) as WrappedKey;
      await store.create({ ...alices, userId: 'mallory' });
      await expect(otherInstance().encrypt('mallory', 'email', 'x')).rejects.toBeInstanceOf(DataKeyUnwrapError);
    });

    it('refuses wrapped keys under a different master key, naming MASTER_KEY', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      const wrongMaster = new PersonalDataCipher(store, randomBytes(32));
      const error = await wrongMaster.decrypt('alice', 'email', value).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DataKeyUnwrapError);
      expect((error as Error).message).toContain('MASTER_KEY');
    });
  });

  describe('tamper detection', () => {
    it.each(['ciphertext', 'tag', 'iv'] as const)('fails authentication when the %s is altered', async (field) => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      const tampered: EncryptedValue = { ...value, [field]: flipFirstByte(value[field]) };
      const error = await decryptionError(() => cipher.decrypt('alice', 'email', tampered));
      expect(error.reason).toBe('authentication_failed');
    });

    it('fails authentication when the ciphertext is truncated', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      const tampered = { ...value, ciphertext: Buffer.from(value.ciphertext, 'base64').subarray(0, 3).toString('base64') };
      const error = await decryptionError(() => cipher.decrypt('alice', 'email', tampered));
      expect(error.reason).toBe('authentication_failed');
    });

    it('reports a malformed value rather than guessing', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      for (const bad of [{ ...value, tag: 'AAAA' }, { ...value, iv: 'not base64!' }, { ...value, ciphertext: undefined }]) {
        const error = await decryptionError(() => cipher.decrypt('alice', 'email', bad as unknown as EncryptedValue));
        expect(error.reason).toBe('malformed');
      }
    });

    it('reports a value whose key id is not the user key', async () => {
      const value = await cipher.encrypt('alice', 'email', EMAIL);
      const error = await decryptionError(() => cipher.decrypt('alice', 'email', { ...value, keyId: 'another' }));
      expect(error.reason).toBe('unknown_key');
      const stranger = await decryptionError(() => cipher.decrypt('nobody', 'email', value));
      expect(stranger.reason).toBe('unknown_key');
    });
  });

  describe('crypto-shredding', () => {
    it('reports values as shredded after forget, even with a warm cache', async () => {
      const email = await cipher.encrypt('alice', 'email', EMAIL);
      const secret = await cipher.encrypt('alice', 'totp-secret', SECRET);
      await expect(cipher.decrypt('alice', 'email', email)).resolves.toMatchObject({ status: 'ok' });

      await cipher.forget('alice');

      await expect(cipher.decrypt('alice', 'email', email)).resolves.toEqual({ status: 'shredded' });
      await expect(cipher.decrypt('alice', 'totp-secret', secret)).resolves.toEqual({ status: 'shredded' });
      await expect(otherInstance().decrypt('alice', 'email', email)).resolves.toEqual({ status: 'shredded' });
    });

    it('leaves other users readable', async () => {
      await cipher.encrypt('alice', 'email', EMAIL);
      const bobs = await cipher.encrypt('bob', 'email', 'bob@example.com');
      await cipher.forget('alice');
      await expect(cipher.decrypt('bob', 'email', bobs)).resolves.toEqual({ status: 'ok', plaintext: 'bob@example.com' });
    });

    it('refuses to encrypt for a forgotten user, here and on any instance', async () => {
      await cipher.encrypt('alice', 'email', EMAIL);
      await cipher.forget('alice');
      await expect(cipher.encrypt('alice', 'email', EMAIL)).rejects.toBeInstanceOf(DataKeyShreddedError);
      await expect(otherInstance().encrypt('alice', 'email', EMAIL)).rejects.toBeInstanceOf(DataKeyShreddedError);
      await cipher.forget('nobody-yet');
      await expect(cipher.encrypt('nobody-yet', 'email', EMAIL)).rejects.toBeInstanceOf(DataKeyShreddedError);
      await expect(store.get('alice')).resolves.toBe('shredded');
    });

    it('notices a forget made by another instance once its cached key ages out', async () => {
      const clock = new FakeClock();
      const warm = otherInstance({ clock, cacheMaxAgeMs: 60_000 });
      const value = await warm.encrypt('alice', 'email', EMAIL);

      await cipher.forget('alice');
      await expect(warm.decrypt('alice', 'email', value)).resolves.toMatchObject({ status: 'ok' });
      clock.advance(60_000);

      await expect(warm.decrypt('alice', 'email', value)).resolves.toEqual({ status: 'shredded' });
    });

    it('holds at most maxCachedKeys keys, dropping the least recently used', async () => {
      const small = otherInstance({ maxCachedKeys: 2 });
      const values = new Map<string, EncryptedValue>();
      for (const user of ['u1', 'u2', 'u3']) values.set(user, await small.encrypt(user, 'email', EMAIL));

      // Forgotten behind the small cipher's back: only a cached key can still read.
      await store.delete('u1');
      await store.delete('u3');

      await expect(small.decrypt('u1', 'email', values.get('u1')!)).resolves.toEqual({ status: 'shredded' });
      await expect(small.decrypt('u3', 'email', values.get('u3')!)).resolves.toMatchObject({ status: 'ok' });
    });
  });

  describe('errors', () => {
    it('never carry the plaintext or key material', async () => {
      const email = await cipher.encrypt('alice', 'email', EMAIL);
      const wrapped = (await store.get('alice')) as WrappedKey;
      const errors: unknown[] = [];
      const collect = (run: () => Promise<unknown>) => run().then(() => errors.push(new Error('no error raised')), (e: unknown) => errors.push(e));
      await collect(() => cipher.decrypt('alice', 'totp-secret', email));
      await collect(() => cipher.decrypt('alice', 'email', { ...email, tag: flipFirstByte(email.tag) }));
      await collect(() => new PersonalDataCipher(store, randomBytes(32)).decrypt('alice', 'email', email));
      await cipher.forget('alice');
      await collect(() => cipher.encrypt('alice', 'email', EMAIL));
      await collect(() => cipher.encrypt('bob', 'Not A Label', EMAIL));

      const forbidden = [EMAIL, masterKey.toString('hex'), masterKey.toString('base64'), wrapped.ciphertext, email.ciphertext];
      expect(errors).toHaveLength(5);
      for (const error of errors) {
        expect(error).toBeInstanceOf(Error);
        const text = `${String(error)} ${(error as Error).stack ?? ''} ${JSON.stringify(error)}`;
        expect(text).not.toMatch(/no error raised/);
        for (const secret of forbidden) expect(text).not.toContain(secret);
      }
    });

    it('refuses a master key that is not 32 bytes', () => {
      expect(() => new PersonalDataCipher(store, randomBytes(16))).toThrow(RangeError);
    });
  });
});
