import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TrustedDevice } from './user.state.js';

/**
 * Trusted-device tokens: 256 random bits, shown once. A token this long cannot be guessed or
 * brute-forced from its hash, so a plain SHA-256 is enough (no salt, no slow hash: those defend
 * low-entropy secrets such as backup codes), and it lets a check hash once and compare.
 */
export const DEVICE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export interface NewDeviceToken {
  readonly token: string;
  readonly hash: string;
}

export function newDeviceToken(): NewDeviceToken {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashDeviceToken(token) };
}

export function hashDeviceToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The device whose hash is the token's, comparing against every device in constant time. */
export function matchDeviceToken(token: string, devices: readonly TrustedDevice[]): string | null {
  const given = Buffer.from(hashDeviceToken(token), 'hex');
  let matched: string | null = null;
  for (const device of devices) {
    const stored = Buffer.from(device.tokenHash, 'hex');
    if (stored.length === given.length && timingSafeEqual(stored, given)) matched = device.deviceId;
  }
  return matched;
}
