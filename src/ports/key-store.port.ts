/**
 * A user's data key as the key store keeps it: encrypted (AES-256-GCM) under the master key, never
 * in plaintext. Key generation and wrapping happen in PersonalDataCipher, the only holder of the
 * master key, so no key store adapter ever sees an unwrapped key.
 */
export interface WrappedKey {
  readonly userId: string;
  /** Random id written into every EncryptedValue made with this key. */
  readonly keyId: string;
  /** base64 of the 96-bit GCM nonce used to wrap the key. */
  readonly iv: string;
  /** base64 of the wrapped 32-byte data key. */
  readonly ciphertext: string;
  /** base64 of the 128-bit GCM authentication tag. */
  readonly tag: string;
  readonly createdAt: string;
}

export class DataKeyExistsError extends Error {
  override readonly name = 'DataKeyExistsError';
  constructor(readonly userId: string) {
    super(`user ${userId} already has a data key`);
  }
}

/**
 * A forgotten user's key id is tombstoned for good: creating a fresh key would let later events
 * carry readable personal data again for someone who asked to be forgotten.
 */
export class DataKeyShreddedError extends Error {
  override readonly name = 'DataKeyShreddedError';
  constructor(readonly userId: string) {
    super(`user ${userId} was forgotten; their data key is shredded and cannot be re-created`);
  }
}

export interface KeyStore {
  /** Stores a new key; throws DataKeyExistsError or DataKeyShreddedError instead of replacing one. */
  create(key: WrappedKey): Promise<void>;
  /** The user's key, 'shredded' once deleted, null if the user never had one. */
  get(userId: string): Promise<WrappedKey | 'shredded' | null>;
  /**
   * Erases the key material and leaves a tombstone (user id, key id, time; no material).
   * Idempotent, also for a user who never had a key, so a retried forget finishes the erasure.
   */
  delete(userId: string): Promise<void>;
  close(): Promise<void>;
}
