import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { EncryptedValue } from '../kernel/encrypted-value.js';
import type { AnswerSealer } from '../ports/answer-sealer.port.js';
import type { PersonalDataCipher } from './personal-data.cipher.js';

export const ANSWER_PURPOSE = 'idempotent-answer';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

type Sealed =
  | { readonly v: 1; readonly owner: 'user'; readonly userId: string; readonly value: EncryptedValue }
  | { readonly v: 1; readonly owner: 'service'; readonly iv: string; readonly ciphertext: string; readonly tag: string };

export class SealedAnswerError extends Error {
  override readonly name = 'SealedAnswerError';
}

/**
 * Keys for the idempotency layer, each derived from the master key with HKDF-SHA256 (RFC 5869)
 * under its own label, so none of them can stand in for another or for the master key itself.
 * An answer is bound to its record: the record key is the GCM AAD (service key) or is sealed with
 * the answer and checked on opening (user key, whose AAD the personal-data cipher owns).
 */
export class IdempotentAnswerSealer implements AnswerSealer {
  private readonly digestKeys: Readonly<Record<'fingerprint' | 'record', Buffer>>;
  private readonly serviceKey: Buffer;

  constructor(
    private readonly cipher: PersonalDataCipher,
    masterKey: Buffer,
  ) {
    this.digestKeys = { fingerprint: derive(masterKey, 'fingerprint'), record: derive(masterKey, 'record-key') };
    this.serviceKey = derive(masterKey, 'answer');
  }

  digest(label: 'fingerprint' | 'record', material: string): string {
    return createHmac('sha256', this.digestKeys[label]).update(material, 'utf8').digest('hex');
  }

  async seal(recordKey: string, ownerUserId: string | null, plaintext: string): Promise<string> {
    const bound = JSON.stringify([recordKey, plaintext]);
    if (ownerUserId !== null) {
      const value = await this.cipher.encryptWithExistingKey(ownerUserId, ANSWER_PURPOSE, bound);
      if (typeof value === 'object') return JSON.stringify({ v: 1, owner: 'user', userId: ownerUserId, value } satisfies Sealed);
      // No key yet means no such user (the answer is a refusal); a shredded key means the user is
      // forgotten and the answer (the forget itself, or a 410) carries nothing of theirs.
    }
    return JSON.stringify(this.sealWithServiceKey(recordKey, plaintext));
  }

  async open(recordKey: string, sealed: string): Promise<string | 'shredded'> {
    const parsed = JSON.parse(sealed) as Sealed;
    if (parsed.owner === 'service') return this.openWithServiceKey(recordKey, parsed);
    const decrypted = await this.cipher.decrypt(parsed.userId, ANSWER_PURPOSE, parsed.value);
    if (decrypted.status === 'shredded') return 'shredded';
    const [boundKey, plaintext] = JSON.parse(decrypted.plaintext) as [string, string];
    if (boundKey !== recordKey) throw new SealedAnswerError('a stored answer belongs to another idempotency record');
    return plaintext;
  }

  private sealWithServiceKey(recordKey: string, plaintext: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.serviceKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(recordKey, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { v: 1, owner: 'service', iv: iv.toString('base64'), ciphertext: ciphertext.toString('base64'), tag: cipher.getAuthTag().toString('base64') };
  }

  private openWithServiceKey(recordKey: string, sealed: Extract<Sealed, { owner: 'service' }>): string {
    const decipher = createDecipheriv(ALGORITHM, this.serviceKey, Buffer.from(sealed.iv, 'base64'), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(recordKey, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new SealedAnswerError('a stored answer fails authentication: altered, or sealed under another MASTER_KEY');
    }
  }
}

function derive(masterKey: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `tfe/idempotency/${label}/v1`, 32));
}
