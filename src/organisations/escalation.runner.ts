import { handleCommand } from '../application/command-handling.js';
import { fold } from '../kernel/decider.js';
import type { Clock } from '../kernel/clock.js';
import type { EventStore } from '../ports/event-store.port.js';
import { organisationDecider, organisationStream } from './organisation.decider.js';
import type { OrganisationEvent } from './organisation.events.js';

export type EscalationOutcome = 'escalated' | 'not_due' | 'nothing_to_do';

/** The service itself carrying out a schedule; no token can carry the 'system' role. */
const SCHEDULER_ACTOR = { id: 'escalation-scheduler', roles: ['system'] } as const;

/**
 * Carries out one organisation's scheduled escalation. The command id derives from the schedule,
 * so two scheduler processes propose the same event; the append is conditional on the revision
 * decided on, and the loser decides again on the winner's history, which no longer has the
 * schedule: the mode changes exactly once.
 */
export class EscalationRunner {
  constructor(private readonly deps: { readonly events: EventStore; readonly clock: Clock }) {}

  async run(orgId: string, scheduleId: string): Promise<EscalationOutcome> {
    const { events, clock } = this.deps;
    const now = clock.now();
    const state = fold(organisationDecider, (await events.readStream(organisationStream(orgId))) as unknown as OrganisationEvent[]);
    const pending = state.status === 'registered' ? state.escalation : null;
    if (pending?.scheduleId !== scheduleId) return 'nothing_to_do';
    if (now.getTime() < Date.parse(pending.hardFrom)) return 'not_due';
    const commandId = `escalation|${orgId}|${scheduleId}`;
    const outcome = await handleCommand(
      events,
      organisationDecider,
      organisationStream(orgId),
      { type: 'FireScheduledEscalation', scheduleId, at: now.toISOString(), actor: SCHEDULER_ACTOR },
      { commandId, correlationId: commandId, actor: SCHEDULER_ACTOR, now },
    );
    return outcome.events.length > 0 ? 'escalated' : 'nothing_to_do';
  }
}
