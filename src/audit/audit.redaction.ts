import type { JsonValue } from '../kernel/event-envelope.js';
import { PersistentMap } from '../kernel/persistent-map.js';

/**
 * What an auditor sees of a protected value. Ciphertexts are never decrypted here: the audit trail
 * proves what happened without exposing secrets or personal data, and a forgotten user's values
 * read as shredded because their data key no longer exists anywhere.
 */
export type Redacted = { encrypted: true; keyId: string } | { shredded: true } | { redacted: true };

/** Fields holding backup-code hashes: slow hashes, but still nothing an auditor needs to read. */
const HASH_FIELDS = new Set(['hashes', 'backupCodeHashes']);
/** A trusted device's token hash: it proves nothing to an auditor and the device id names the device. */
const SINGLE_HASH_FIELDS = new Set(['tokenHash']);

const ENCRYPTED_FIELDS = ['keyId', 'iv', 'ciphertext', 'tag'] as const;

export function isEncryptedValue(value: unknown): value is Record<(typeof ENCRYPTED_FIELDS)[number], string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  return ENCRYPTED_FIELDS.every((field) => typeof record[field] === 'string');
}

/** A deep copy with every encrypted value and backup-code hash replaced; plain values pass through. */
export function redact(value: unknown, shredded: boolean): JsonValue {
  if (value instanceof Map || value instanceof PersistentMap) return redact(Object.fromEntries(value), shredded);
  if (isEncryptedValue(value)) return shredded ? { shredded: true } : { encrypted: true, keyId: value.keyId };
  if (Array.isArray(value)) return value.map((item) => redact(item, shredded));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      if (SINGLE_HASH_FIELDS.has(key) && typeof item === 'string') out[key] = { redacted: true };
      else out[key] = HASH_FIELDS.has(key) && Array.isArray(item) ? item.map(redactHash) : redact(item, shredded);
    }
    return out;
  }
  if (value === undefined) return null;
  return value as JsonValue;
}

/** A used slot stays null so that the auditor still sees which codes are spent. */
function redactHash(hash: unknown): JsonValue {
  return hash === null ? null : { redacted: true };
}
