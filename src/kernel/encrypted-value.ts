/**
 * A value encrypted with AES-256-GCM under a user's data key. Stored in event payloads instead of
 * the plaintext; once the key is deleted (crypto-shredding) it can never be read again, while the
 * event and its hash stay intact.
 */
export interface EncryptedValue {
  readonly [key: string]: string;
  readonly keyId: string;
  readonly iv: string;
  readonly ciphertext: string;
  readonly tag: string;
}
