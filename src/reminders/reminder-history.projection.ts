import type { Doc } from '../ports/read-store.port.js';
import type { Projection } from '../projections/projection.js';
import type { ReminderSent } from '../two-factor/user.events.js';

export const REMINDER_HISTORY = 'reminder_history';

export interface ReminderHistoryDoc extends Doc {
  userId: string;
  sentAt: string;
  orgIds: string[];
  cadence: string;
  messageId: string;
}

/** Every reminder sent, for support and the user: GET /v1/users/:userId/reminders. */
export const reminderHistoryProjection: Projection = {
  name: 'reminder_history',
  handles: ['ReminderSent'],
  indexes: { [REMINDER_HISTORY]: [{ fields: ['userId', 'sentAt'] }] },
  async apply(event) {
    const { data } = event as unknown as ReminderSent;
    const userId = event.stream.slice('user-'.length);
    const doc: ReminderHistoryDoc = { id: event.metadata.eventId, userId, sentAt: data.sentAt, orgIds: data.orgIds, cadence: data.cadence, messageId: data.messageId };
    return [{ kind: 'upsert', collection: REMINDER_HISTORY, doc }];
  },
};
