import { DomainError } from '../kernel/domain-error.js';
import { isValidId } from '../kernel/ids.js';
import type { NewTrustedDevice, RevokeTrustedDevice } from './user.commands.js';
import type { DeviceRevocationReason, UserEvent } from './user.events.js';
import type { RegisteredUser, TrustedDevice } from './user.state.js';

/**
 * Trusted devices ("remember this device"): a browser that passed a check may skip the code until
 * its expiry. Kept apart from the rest of the user decider, which dispatches here.
 */

/** A user rarely has more browsers than this; remembering one more forgets the oldest, so the list stays short. */
export const MAX_TRUSTED_DEVICES = 10;
const TOKEN_HASH = /^[0-9a-f]{64}$/;

type Decision = readonly UserEvent[] | DomainError;

export function liveDevices(user: RegisteredUser, at: number): readonly TrustedDevice[] {
  return user.trustedDevices.filter((device) => Date.parse(device.expiresAt) > at);
}

/** The events that trust a new device after a successful check, or why the device is malformed (a wiring bug). */
export function rememberDevice(device: NewTrustedDevice, user: RegisteredUser, at: number, atIso: string): Decision {
  const invalid = validateNewDevice(device, at);
  if (invalid) return invalid;
  const live = [...liveDevices(user, at)].sort((a, b) => Date.parse(a.rememberedAt) - Date.parse(b.rememberedAt));
  const overLimit = live.slice(0, Math.max(0, live.length - MAX_TRUSTED_DEVICES + 1));
  return [
    ...overLimit.map((old) => revoked(old.deviceId, user.userId, 'limit')),
    { type: 'TrustedDeviceRemembered', data: { deviceId: device.deviceId, tokenHash: device.tokenHash, label: device.label ? { ...device.label } : null, rememberedAt: atIso, expiresAt: device.expiresAt } },
  ];
}

function validateNewDevice(device: NewTrustedDevice, at: number): DomainError | null {
  const ok =
    typeof device === 'object' &&
    device !== null &&
    typeof device.deviceId === 'string' &&
    isValidId(device.deviceId) &&
    typeof device.tokenHash === 'string' &&
    TOKEN_HASH.test(device.tokenHash) &&
    (device.label === null || isEncrypted(device.label)) &&
    typeof device.expiresAt === 'string' &&
    Date.parse(device.expiresAt) > at;
  return ok ? null : new DomainError('invalid', 'invalid_trusted_device', 'A trusted device needs an id, a token hash, an encrypted label or none, and a later expiry');
}

function isEncrypted(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return ['keyId', 'iv', 'ciphertext', 'tag'].every((field) => typeof record[field] === 'string' && (record[field] as string).length > 0);
}

/** Unknown, already revoked and expired devices are all "not found": none of them is listed. */
export function revokeDevice(command: RevokeTrustedDevice, user: RegisteredUser, at: number): Decision {
  const device = typeof command.deviceId === 'string' ? liveDevices(user, at).find((d) => d.deviceId === command.deviceId) : undefined;
  if (!device) return new DomainError('not_found', 'device_not_found', 'No trusted device with this id');
  return [revoked(device.deviceId, command.actor.id, 'revoked')];
}

/** Recorded before the factor goes away (reset, disable, forget), so the audit timeline names every device it ended. */
export function revokeAllDevices(user: RegisteredUser, by: string, reason: DeviceRevocationReason, at: number): UserEvent[] {
  return liveDevices(user, at).map((device) => revoked(device.deviceId, by, reason));
}

function revoked(deviceId: string, by: string, reason: DeviceRevocationReason): UserEvent {
  return { type: 'TrustedDeviceRevoked', data: { deviceId, by, reason } };
}
