import type { EventStore } from '../ports/event-store.port.js';

const USER_STREAM_PREFIX = 'user-';

/**
 * Tells whether the user owning a stream was forgotten (crypto-shredded). UserForgotten is
 * terminal (the decider refuses everything after it), so the stream's last event answers.
 * Answers are memoised up to a bound, so an export of a million events stays in constant memory.
 */
export class ForgottenUsers {
  private readonly known = new Map<string, boolean>();

  constructor(
    private readonly events: EventStore,
    private readonly maxEntries = 10_000,
  ) {}

  async isShredded(stream: string): Promise<boolean> {
    if (!stream.startsWith(USER_STREAM_PREFIX)) return false;
    const cached = this.known.get(stream);
    if (cached !== undefined) return cached;
    const [last] = await this.events.readStream(stream, { direction: 'backwards', limit: 1 });
    const forgotten = last?.type === 'UserForgotten';
    if (this.known.size >= this.maxEntries) this.known.clear();
    this.known.set(stream, forgotten);
    return forgotten;
  }
}
