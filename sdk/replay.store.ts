/**
 * Where assertion ids (`jti`) are remembered until they expire, so an assertion is accepted
 * once. The in-memory store protects one process; a host running several instances plugs in a
 * shared store (e.g. Redis `SET jti 1 NX PXAT expiresAt`) through the same interface.
 */
export interface ReplayStore {
  /**
   * Records `jti` until `expiresAt` and answers `true`, or answers `false` when it was already
   * recorded and has not expired. Must be atomic across the instances that share it.
   */
  claim(jti: string, expiresAt: Date): Promise<boolean> | boolean;
}

/**
 * A bounded in-memory {@link ReplayStore}. When it is full of unexpired ids it refuses new ones
 * (the verifier then rejects the assertion) rather than forget an id: forgetting would let that
 * assertion be replayed. Assertions live two minutes, so the default bound is reached only by
 * more than 100,000 sign-ins per two minutes in one process.
 */
export class MemoryReplayStore implements ReplayStore {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly capacity = 100_000,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('capacity must be a positive integer');
  }

  claim(jti: string, expiresAt: Date): boolean {
    const now = this.now();
    const until = this.seen.get(jti);
    if (until !== undefined && until > now) return false;
    if (this.seen.size >= this.capacity) this.sweep(now);
    if (this.seen.size >= this.capacity) throw new ReplayStoreFullError();
    this.seen.set(jti, expiresAt.getTime());
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private sweep(now: number): void {
    for (const [jti, until] of this.seen) if (until <= now) this.seen.delete(jti);
  }
}

/** Thrown by {@link MemoryReplayStore.claim} when no id can be forgotten safely. */
export class ReplayStoreFullError extends Error {
  override readonly name = 'ReplayStoreFullError';
  constructor() {
    super('The replay store is full of unexpired assertion ids');
  }
}
