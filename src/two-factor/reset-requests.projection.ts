import type { Doc, WriteOp } from '../ports/read-store.port.js';
import type { Projection } from '../projections/projection.js';
import type { RecordedEvent } from '../kernel/event-envelope.js';
import type { UserEvent } from './user.events.js';

export const RESET_REQUESTS = 'reset_requests';

/** A two-person reset request, for support's list of requests waiting for a second agent. */
export interface ResetRequestDoc extends Doc {
  userId: string;
  requestedBy: string;
  reason: string;
  requestedAt: string;
  expiresAt: string;
  /** `closed`: the factor was reset or disabled another way, or the user forgotten, before approval. */
  status: 'pending' | 'approved' | 'closed';
  approvedBy: string | null;
}

/**
 * Follows the user decider: a reset closes every pending request of the user except the one it
 * approves, and so do a disable and a forget. Expiry needs no event: the query compares with now.
 */
export const resetRequestsProjection: Projection = {
  name: 'reset_requests',
  handles: ['TwoFactorResetRequested', 'TwoFactorReset', 'TwoFactorDisabled', 'UserForgotten'],
  indexes: { [RESET_REQUESTS]: [{ fields: ['status', 'expiresAt'] }, { fields: ['userId', 'status'] }] },
  async apply(recorded) {
    const event = recorded as RecordedEvent & UserEvent;
    const userId = recorded.stream.slice('user-'.length);
    switch (event.type) {
      case 'TwoFactorResetRequested': {
        const { requestId, by, reason, expiresAt } = event.data;
        const doc: ResetRequestDoc = { id: requestId, userId, requestedBy: by, reason, requestedAt: recorded.metadata.occurredAt, expiresAt, status: 'pending', approvedBy: null };
        return [{ kind: 'upsert', collection: RESET_REQUESTS, doc }];
      }
      case 'TwoFactorReset': {
        const data = event.data as { requestId?: string; approvedBy?: string };
        const approved: WriteOp[] = data.requestId ? [{ kind: 'patch', collection: RESET_REQUESTS, id: data.requestId, set: { status: 'approved', approvedBy: data.approvedBy ?? null } }] : [];
        return [...approved, closePending(userId)];
      }
      case 'TwoFactorDisabled':
      case 'UserForgotten':
        return [closePending(userId)];
      default:
        return [];
    }
  },
};

function closePending(userId: string): WriteOp {
  return { kind: 'patchMany', collection: RESET_REQUESTS, filter: { userId, status: 'pending' }, set: { status: 'closed' } };
}
