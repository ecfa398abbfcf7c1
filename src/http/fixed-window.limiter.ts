import { createHash } from 'node:crypto';

export interface LimitDecision {
  readonly allowed: boolean;
  /** Seconds until the key's window ends (at least 1); what a refused caller should wait. */
  readonly retryAfterSeconds: number;
}

export interface FixedWindowLimiterOptions {
  readonly windowMs: number;
  /** At most this many keys are tracked, so a flood of distinct keys cannot exhaust memory. */
  readonly maxKeys: number;
}

/**
 * Counts hits per key in fixed windows. Time comes from the caller, so the fake clock drives it in
 * tests. The map is kept in window-start order (a key whose window restarts is re-inserted at the
 * end), so ended windows and, when full, the oldest windows are dropped from the front in O(1).
 */
export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly options: FixedWindowLimiterOptions) {}

  get trackedKeys(): number {
    return this.windows.size;
  }

  hit(key: string, limit: number, now: number): LimitDecision {
    // Keys hold ids from the URL and the caller's id: hashing bounds the memory each one takes.
    const digest = createHash('sha256').update(key).digest('base64url');
    let window = this.windows.get(digest);
    if (window && now - window.start >= this.options.windowMs) {
      this.windows.delete(digest);
      window = undefined;
    }
    if (!window) {
      this.makeRoom(now);
      window = { start: now, count: 0 };
      this.windows.set(digest, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((window.start + this.options.windowMs - now) / 1000));
    if (window.count >= limit) return { allowed: false, retryAfterSeconds };
    window.count += 1;
    return { allowed: true, retryAfterSeconds };
  }

  private makeRoom(now: number): void {
    for (const [key, window] of this.windows) {
      const ended = now - window.start >= this.options.windowMs;
      if (!ended && this.windows.size < this.options.maxKeys) return;
      this.windows.delete(key);
    }
  }
}
