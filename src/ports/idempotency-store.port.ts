/**
 * What the idempotency layer keeps per Idempotency-Key (DESIGN §7). The store holds only opaque
 * values: `key` and `fingerprint` are keyed digests and `answer.sealed` is encrypted above this
 * port, so no adapter ever sees a request body, a key chosen by a client or an answer in clear.
 * Time enters as arguments (`now`, `leaseUntil`, `expiresAt`), never from the adapter's clock.
 */
export interface StoredAnswer {
  /** The HTTP status first answered (2xx or 4xx; 5xx answers are never stored). */
  readonly status: number;
  /** The sealed answer (headers and body), opaque to the store. */
  readonly sealed: string;
}

export type IdempotencyRecord =
  | { readonly state: 'in_progress'; readonly fingerprint: string; readonly leaseUntil: Date; readonly expiresAt: Date }
  | { readonly state: 'completed'; readonly fingerprint: string; readonly answer: StoredAnswer; readonly expiresAt: Date };

export interface ClaimRequest {
  readonly key: string;
  readonly fingerprint: string;
  /** Random per attempt: only the holder of the claim may complete or release it. */
  readonly token: string;
  readonly now: Date;
  /** A claim whose holder crashed frees up at this instant (for a retry with the same fingerprint). */
  readonly leaseUntil: Date;
  /** The whole record (claim or answer) is forgotten at this instant. */
  readonly expiresAt: Date;
}

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly record: IdempotencyRecord };

export interface IdempotencyStore {
  /**
   * Atomically claims `key` when no live record holds it. A record counts as absent once it
   * expired (`expiresAt <= now`), whatever its fingerprint; an unfinished claim whose lease lapsed
   * (`leaseUntil <= now`) may be taken over by a claim with the same fingerprint only, keeping the
   * first expiry. Otherwise answers the live record and changes nothing. Of concurrent claims on
   * one key, exactly one wins.
   */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Stores the answer of the claim held by `token`; false (and nothing written) when it no longer holds it. */
  complete(key: string, token: string, answer: StoredAnswer): Promise<boolean>;
  /** Drops the unfinished claim held by `token` so a retry can run; no effect on anyone else's record. */
  release(key: string, token: string): Promise<void>;
  close(): Promise<void>;
}
