import { DomainError } from '../kernel/domain-error.js';
import { isValidId } from '../kernel/ids.js';
import { revokeAllDevices } from './trusted-device.decisions.js';
import type { ApproveTwoFactorReset, RequestTwoFactorReset, ResetTwoFactor } from './user.commands.js';
import type { UserEvent } from './user.events.js';
import type { RegisteredUser } from './user.state.js';

/**
 * Resetting a lost factor, by one support agent or (RESET_REQUIRES_APPROVAL) by two: one requests
 * with a reason, a different one approves within 24 hours. The approved reset is the same
 * TwoFactorReset as a direct one, so everything reacting to resets keeps working.
 */

export const RESET_REQUEST_LIFETIME_MS = 24 * 60 * 60 * 1000;
const MAX_REASON_LENGTH = 500;
// Reasons end up in audit exports; control characters would corrupt them.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

type Decision = readonly UserEvent[] | DomainError;

export function reset(command: ResetTwoFactor, user: RegisteredUser, at: number): Decision {
  const reason = validReason(command.reason);
  if (reason instanceof DomainError) return reason;
  if (user.factor.kind === 'none') return notEnabled();
  return [...revokeAllDevices(user, command.actor.id, 'reset', at), { type: 'TwoFactorReset', data: { reason, by: command.actor.id } }];
}

export function requestReset(command: RequestTwoFactorReset, user: RegisteredUser, at: number): Decision {
  const reason = validReason(command.reason);
  if (reason instanceof DomainError) return reason;
  if (typeof command.requestId !== 'string' || !isValidId(command.requestId)) return new DomainError('invalid', 'invalid_request_id', 'A reset request needs a valid id');
  const expiresAt = typeof command.expiresAt === 'string' ? Date.parse(command.expiresAt) : NaN;
  if (!(expiresAt > at && expiresAt <= at + RESET_REQUEST_LIFETIME_MS)) return new DomainError('invalid', 'invalid_expiry', 'A reset request expires within 24 hours of the request');
  if (user.factor.kind === 'none') return notEnabled();
  const open = pendingAt(user, at);
  if (open) return new DomainError('conflict', 'reset_request_pending', 'A reset of this factor is already waiting for approval', { requestId: open.requestId, expiresAt: open.expiresAt });
  return [{ type: 'TwoFactorResetRequested', data: { requestId: command.requestId, by: command.actor.id, reason, expiresAt: command.expiresAt } }];
}

/**
 * Refusals in the order a second agent needs them: no such request, their own request, then why
 * a request can no longer be approved (used, closed by another change of the factor, expired).
 */
export function approveReset(command: ApproveTwoFactorReset, user: RegisteredUser, at: number): Decision {
  const request = user.resetRequests.find((r) => r.requestId === command.requestId);
  if (!request) return new DomainError('not_found', 'reset_request_not_found', 'No reset request with this id for this user');
  if (request.by === command.actor.id) return new DomainError('forbidden', 'self_approval', 'A reset must be approved by a different support agent than the one who requested it');
  if (request.status === 'approved') return new DomainError('conflict', 'reset_request_already_used', 'This reset request was already approved');
  if (request.status === 'closed') return new DomainError('conflict', 'reset_request_closed', 'The factor was reset or disabled after this request; request a new reset if still needed');
  if (Date.parse(request.expiresAt) <= at) return new DomainError('gone', 'reset_request_expired', 'This reset request expired; request a new one');
  if (user.factor.kind === 'none') return notEnabled();
  return [
    ...revokeAllDevices(user, command.actor.id, 'reset', at),
    { type: 'TwoFactorReset', data: { reason: request.reason, by: request.by, requestId: request.requestId, approvedBy: command.actor.id } },
  ];
}

function pendingAt(user: RegisteredUser, at: number): RegisteredUser['resetRequests'][number] | null {
  return user.resetRequests.find((r) => r.status === 'pending' && Date.parse(r.expiresAt) > at) ?? null;
}

function validReason(value: unknown): string | DomainError {
  const reason = typeof value === 'string' ? value.trim() : '';
  if (reason.length === 0) return new DomainError('invalid', 'reason_required', 'A written reason is required');
  if (reason.length > MAX_REASON_LENGTH || CONTROL_CHARACTERS.test(reason)) {
    return new DomainError('invalid', 'invalid_reason', `Reason must be at most ${MAX_REASON_LENGTH} printable characters`);
  }
  return reason;
}

function notEnabled(): DomainError {
  return new DomainError('conflict', 'two_factor_not_enabled', 'There is no factor to reset');
}
