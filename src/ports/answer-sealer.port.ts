/**
 * The secrets the idempotency layer needs, behind one port so that the web edge never holds key
 * material. Stored answers can carry TOTP secrets (setup) and backup codes (confirm, regenerate),
 * and request bodies carry emails and codes: digests are keyed (a plain hash of a six-digit code
 * is reversed by trying all of them) and answers are encrypted.
 */
export interface AnswerSealer {
  /** Hex HMAC-SHA256 of `material` under a key derived from the master key, separate per label. */
  digest(label: 'fingerprint' | 'record', material: string): string;
  /**
   * Encrypts an answer bound to `recordKey`. With an `ownerUserId` it uses that user's data key, so
   * forgetting the user shreds the answer too; without one (or when the user has no data key) a
   * service key derived from the master key.
   */
  seal(recordKey: string, ownerUserId: string | null, plaintext: string): Promise<string>;
  /** The plaintext, or 'shredded' when the owner was forgotten since. Throws on tampering or another record's answer. */
  open(recordKey: string, sealed: string): Promise<string | 'shredded'>;
}
