import type { RecordedEvent } from '../kernel/event-envelope.js';
import { eventHash } from '../kernel/hash-chain.js';

/**
 * Why an event breaks its stream's chain:
 * - `revision_gap`: not the revision that should follow (an event deleted or moved before it);
 * - `prev_hash_mismatch`: it does not link to the hash of the event before it;
 * - `hash_mismatch`: its content no longer hashes to the hash stored with it (altered).
 */
export type BreakReason = 'revision_gap' | 'prev_hash_mismatch' | 'hash_mismatch';

export interface BrokenEvent {
  readonly stream: string;
  readonly revision: number;
  readonly position: string;
  readonly reason: BreakReason;
  readonly expectedRevision: number;
  /** The hash this event would carry if it were the untouched successor of the verified history. */
  readonly expectedHash: string;
  readonly foundHash: string;
}

export interface IntegrityResult {
  readonly ok: boolean;
  readonly eventsChecked: number;
  readonly streamsChecked: number;
  /** Streams with at least one broken event; each stream is checked only up to its first break. */
  readonly brokenStreams: number;
  readonly firstBroken: BrokenEvent | null;
}

interface StreamTip {
  readonly nextRevision: number;
  readonly hash: string;
}

/**
 * Recomputes hash chains incrementally, one event at a time, in store order (per stream, revisions
 * must come in order; streams may interleave, as in a read of the whole store). Pure: the HTTP
 * route and the CLI feed it pages, so memory grows with the number of streams, not of events.
 */
export class ChainVerifier {
  private readonly tips = new Map<string, StreamTip>();
  private readonly broken = new Set<string>();
  private firstBroken: BrokenEvent | null = null;
  private checked = 0;

  push(event: RecordedEvent): BrokenEvent | null {
    if (this.broken.has(event.stream)) return null;
    this.checked += 1;
    const tip = this.tips.get(event.stream) ?? { nextRevision: 0, hash: '' };
    const expectedHash = eventHash({ ...event, revision: tip.nextRevision, prevHash: tip.hash });
    const reason = breakReason(event, tip, expectedHash);
    if (reason === null) {
      this.tips.set(event.stream, { nextRevision: tip.nextRevision + 1, hash: event.metadata.hash });
      return null;
    }
    const broken: BrokenEvent = {
      stream: event.stream,
      revision: event.revision,
      position: event.position,
      reason,
      expectedRevision: tip.nextRevision,
      expectedHash,
      foundHash: event.metadata.hash,
    };
    this.broken.add(event.stream);
    this.tips.delete(event.stream);
    this.firstBroken ??= broken;
    return broken;
  }

  get eventsChecked(): number {
    return this.checked;
  }

  result(): IntegrityResult {
    return {
      ok: this.firstBroken === null,
      eventsChecked: this.checked,
      streamsChecked: this.tips.size + this.broken.size,
      brokenStreams: this.broken.size,
      firstBroken: this.firstBroken,
    };
  }
}

function breakReason(event: RecordedEvent, tip: StreamTip, expectedHash: string): BreakReason | null {
  if (event.revision !== tip.nextRevision) return 'revision_gap';
  if (event.metadata.prevHash !== tip.hash) return 'prev_hash_mismatch';
  if (event.metadata.hash !== expectedHash) return 'hash_mismatch';
  return null;
}

export function verifyChain(events: Iterable<RecordedEvent>): IntegrityResult {
  const verifier = new ChainVerifier();
  for (const event of events) verifier.push(event);
  return verifier.result();
}
