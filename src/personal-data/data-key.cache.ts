import type { Clock } from '../kernel/clock.js';
import { LruMap } from '../kernel/lru.map.js';

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
  private readonly entries: LruMap<string, Entry>;

  constructor(
    maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly clock: Clock,
  ) {
    this.entries = new LruMap(maxEntries, (_userId, entry) => entry.key.fill(0));
  }

  get(userId: string): DataKey | undefined {
    const entry = this.entries.get(userId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.clock.now().getTime()) {
      this.evict(userId);
      return undefined;
    }
    return { keyId: entry.keyId, key: Buffer.from(entry.key) };
  }

  set(userId: string, key: DataKey): void {
    this.evict(userId);
    this.entries.set(userId, { keyId: key.keyId, key: Buffer.from(key.key), expiresAt: this.clock.now().getTime() + this.maxAgeMs });
  }

  evict(userId: string): void {
    const entry = this.entries.peek(userId);
    if (!entry) return;
    this.entries.delete(userId);
    entry.key.fill(0);
  }

  get size(): number {
    return this.entries.size;
  }
}
