import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SqliteKeyStore } from '../../src/infrastructure/crypto/sqlite.key-store.js';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { IdempotentAnswerSealer, SealedAnswerError } from '../../src/personal-data/idempotent-answer.sealer.js';
import { PersonalDataCipher } from '../../src/personal-data/personal-data.cipher.js';
import { makeTempDir } from '../support/temp-dir.js';

const ANSWER = JSON.stringify({ status: 200, body: '{"backupCodes":["12345678","87654321"],"otpauthUri":"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}' });

describe('IdempotentAnswerSealer', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase;
  let keyStore: SqliteKeyStore;
  let masterKey: Buffer;
  let cipher: PersonalDataCipher;
  let sealer: IdempotentAnswerSealer;

  beforeEach(() => {
    dir = makeTempDir('tfe-sealer-');
    db = openSqlite(join(dir.path, 'data.sqlite'));
    keyStore = new SqliteKeyStore(db);
    masterKey = randomBytes(32);
    cipher = new PersonalDataCipher(keyStore, masterKey);
    sealer = new IdempotentAnswerSealer(cipher, masterKey);
  });

  afterEach(() => {
    db.close();
    dir.remove();
  });

  it('fingerprints with a key: not a plain SHA-256, different under another master key, different per label', () => {
    const body = '{"code":"123456"}';
    const fingerprint = sealer.digest('fingerprint', body);
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(fingerprint).toBe(sealer.digest('fingerprint', body));
    expect(fingerprint).not.toBe(createHash('sha256').update(body).digest('hex'));
    expect(fingerprint).not.toBe(sealer.digest('record', body));
    expect(fingerprint).not.toBe(new IdempotentAnswerSealer(cipher, randomBytes(32)).digest('fingerprint', body));
  });

  it('seals with the service key when there is no owner, or the owner has no data key, and opens it again', async () => {
    for (const owner of [null, 'never-registered']) {
      const sealed = await sealer.seal('record-1', owner, ANSWER);
      expect(sealed).not.toContain('12345678');
      expect(sealed).not.toContain('JBSWY3DPEHPK3PXP');
      expect(JSON.parse(sealed)).toMatchObject({ owner: 'service' });
      await expect(sealer.open('record-1', sealed)).resolves.toBe(ANSWER);
    }
    await expect(keyStore.get('never-registered')).resolves.toBeNull();
  });

  it('seals with the owner\'s data key, so forgetting the owner shreds the answer', async () => {
    await cipher.encrypt('user-1', 'email', 'ada@example.test');
    const sealed = await sealer.seal('record-1', 'user-1', ANSWER);
    expect(JSON.parse(sealed)).toMatchObject({ owner: 'user', userId: 'user-1' });
    expect(sealed).not.toContain('12345678');
    await expect(sealer.open('record-1', sealed)).resolves.toBe(ANSWER);
    await cipher.forget('user-1');
    await expect(sealer.open('record-1', sealed)).resolves.toBe('shredded');
  });

  it('refuses an answer moved to another record, altered, or sealed under another master key', async () => {
    await cipher.encrypt('user-1', 'email', 'ada@example.test');
    for (const owner of [null, 'user-1']) {
      const sealed = await sealer.seal('record-1', owner, ANSWER);
      await expect(sealer.open('record-2', sealed)).rejects.toThrow();
    }
    const sealed = JSON.parse(await sealer.seal('record-1', null, ANSWER)) as { ciphertext: string };
    const flipped = Buffer.from(sealed.ciphertext, 'base64');
    flipped[0] = flipped[0]! ^ 1;
    await expect(sealer.open('record-1', JSON.stringify({ ...sealed, ciphertext: flipped.toString('base64') }))).rejects.toBeInstanceOf(SealedAnswerError);
    const other = new IdempotentAnswerSealer(cipher, randomBytes(32));
    await expect(other.open('record-1', JSON.stringify(sealed))).rejects.toBeInstanceOf(SealedAnswerError);
  });
});
