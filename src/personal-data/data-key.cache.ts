import type { Clock } from '../kernel/clock.js';

export interface DataKey {
  readonly keyId: string;
  readonly key: Buffer;
}

interface Entry extends DataKey {
  readonly expiresAt: number;
}

/**
 * Unwrapped data keys, least recently used first out. Bounded in count so memory holds few keys,
 * and in age so a user forgotten through another instance stops being readable here too.
 * The cache owns its buffers and hands out copies, so zeroing a dropped key can never pull a key
 * from under a caller that is still using it; callers zero their copy when done. Node cannot
 * promise no copy survives in memory, but we keep none on purpose.
 */
export class DataKeyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly clock: Clock,
  ) {}

  get(userId: string): DataKey | undefined {
    const entry = this.entries.get(userId);
    if (!entry) return undefined;
    this.entries.delete(userId);
    if (entry.expiresAt <= this.clock.now().getTime()) {
      entry.key.fill(0);
      return undefined;
    }
    this.entries.set(userId, entry);
    return { keyId: entry.keyId, key: Buffer.from(entry.key) };
  }

  set(userId: string, key: DataKey): void {
    this.evict(userId);
    this.entries.set(userId, { keyId: key.keyId, key: Buffer.from(key.key), expiresAt: this.clock.now().getTime() + this.maxAgeMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.evict(oldest.value);
    }
  }

  evict(userId: string): void {
    const entry = this.entries.get(userId);
    if (!entry) return;
    this.entries.delete(userId);
    entry.key.fill(0);
  }

  get size(): number {
    return this.entries.size;
  }
}
