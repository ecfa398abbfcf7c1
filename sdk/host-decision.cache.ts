import { isDecision, NOTHING_REQUIRED, type EnforcementDecision } from './enforcement.decision.js';
import { comparePositions, isPosition } from './stream.position.js';

/**
 * A user's decision document as the service's change feed and `GET /v1/enforcement/documents/:userId`
 * send it: every answer the decision route would give for the user, and until when time alone
 * leaves them as they are.
 */
export interface HostDecisionDocument {
  readonly userId: string;
  readonly position: string;
  readonly found: boolean;
  readonly decision: EnforcementDecision | null;
  readonly orgs: readonly { readonly orgId: string; readonly decision: EnforcementDecision }[];
  readonly validUntil: string | null;
}

interface Entry {
  readonly position: string;
  readonly found: boolean;
  readonly decision: EnforcementDecision | null;
  readonly orgs: readonly { readonly orgId: string; readonly decision: EnforcementDecision }[];
  /** Epoch milliseconds; Infinity when nothing is due. */
  readonly validUntil: number;
}

/** Distinct answers kept for sharing before the table starts over (sharing is an optimisation, never needed for correctness). */
const INTERNED_MAX = 10_000;

/**
 * The host's copy of decision documents, bounded by `maxUsers` (least recently asked for goes
 * first). Users get in only when asked for (a load), and the feed then keeps the ones present
 * fresh; a document never replaces a newer one (by position), so a load that raced the feed
 * cannot put back an older answer.
 */
export class HostDecisionCache {
  private readonly entries = new Map<string, Entry>();
  /** Loads in flight, with the newest document the feed brought for that user meanwhile. */
  private readonly loading = new Map<string, HostDecisionDocument | null>();
  /** Members of one organisation in one state share their answers: memory per user stays small. */
  private readonly interned = new Map<string, unknown>();

  constructor(private readonly maxUsers: number) {
    if (!Number.isInteger(maxUsers) || maxUsers < 1) throw new TypeError('cache.maxUsers must be a positive integer');
  }

  get size(): number {
    return this.entries.size;
  }

  /** The answer from memory, or undefined when the user is not cached or a timed change is due (then load again). */
  decide(userId: string, orgId: string | undefined, nowMs: number): EnforcementDecision | undefined {
    const entry = this.entries.get(userId);
    if (entry === undefined || nowMs >= entry.validUntil) return undefined;
    // Re-inserting makes this the most recently used user (a Map keeps insertion order).
    this.entries.delete(userId);
    this.entries.set(userId, entry);
    if (!entry.found) return NOTHING_REQUIRED;
    if (orgId === undefined) return entry.decision!;
    for (const org of entry.orgs) if (org.orgId === orgId) return org.decision;
    // Not a member: the service answers 404 membership_not_found, which the client answers with this.
    return NOTHING_REQUIRED;
  }

  /** The last answer known for the user, however old: what the fail rules go by while the service is unreachable. */
  lastKnown(userId: string, orgId: string | undefined): EnforcementDecision | undefined {
    const entry = this.entries.get(userId);
    if (entry === undefined || !entry.found) return undefined;
    if (orgId === undefined) return entry.decision ?? undefined;
    return entry.orgs.find((org) => org.orgId === orgId)?.decision;
  }

  /** A document from the feed: it refreshes a cached user (or one being loaded), and is dropped for anyone else. */
  applyChange(doc: HostDecisionDocument): void {
    if (this.loading.has(doc.userId)) {
      const seen = this.loading.get(doc.userId) ?? null;
      this.loading.set(doc.userId, newer(seen, doc));
    }
    const entry = this.entries.get(doc.userId);
    // Map.set on a present key keeps its place: a change does not make a user recently used.
    if (entry !== undefined && comparePositions(doc.position, entry.position) >= 0) this.entries.set(doc.userId, this.entryOf(doc));
  }

  /** Marks a load as started, so feed changes for the user meanwhile are kept for `endLoad`. */
  beginLoad(userId: string): void {
    if (!this.loading.has(userId)) this.loading.set(userId, null);
  }

  /** Stores the newer of the loaded document and what the feed brought meanwhile; null: the load failed. */
  endLoad(userId: string, loaded: HostDecisionDocument | null): void {
    const meanwhile = this.loading.get(userId) ?? null;
    this.loading.delete(userId);
    const doc = loaded === null ? meanwhile : newer(meanwhile, loaded);
    if (doc === null) return;
    const entry = this.entries.get(userId);
    if (entry !== undefined && comparePositions(doc.position, entry.position) < 0) return;
    this.entries.delete(userId);
    this.entries.set(userId, this.entryOf(doc));
    if (this.entries.size > this.maxUsers) this.entries.delete(this.entries.keys().next().value!);
  }

  /** Everything cached is forgotten (the feed can no longer vouch for it). */
  clear(): void {
    this.entries.clear();
    this.interned.clear();
  }

  private entryOf(doc: HostDecisionDocument): Entry {
    const validUntil = doc.validUntil === null ? Infinity : Date.parse(doc.validUntil);
    if (!doc.found) return { position: doc.position, found: false, decision: null, orgs: [], validUntil };
    return {
      position: doc.position,
      found: true,
      decision: this.intern(doc.decision),
      orgs: this.intern(doc.orgs),
      validUntil: Number.isNaN(validUntil) ? 0 : validUntil,
    };
  }

  private intern<T>(value: T): T {
    const key = JSON.stringify(value);
    const known = this.interned.get(key);
    if (known !== undefined) return known as T;
    if (this.interned.size >= INTERNED_MAX) this.interned.clear();
    this.interned.set(key, deepFreeze(value));
    return value;
  }
}

function newer(a: HostDecisionDocument | null, b: HostDecisionDocument): HostDecisionDocument {
  return a !== null && comparePositions(a.position, b.position) > 0 ? a : b;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** A feed or load answer that is not a document is treated like an unreachable service. */
export function isHostDocument(value: unknown): value is HostDecisionDocument {
  if (typeof value !== 'object' || value === null) return false;
  const doc = value as Record<string, unknown>;
  if (typeof doc['userId'] !== 'string' || !isPosition(doc['position']) || typeof doc['found'] !== 'boolean' || !Array.isArray(doc['orgs'])) return false;
  if (doc['validUntil'] !== null && typeof doc['validUntil'] !== 'string') return false;
  if (doc['found'] && !isDecision(doc['decision'])) return false;
  return (doc['orgs'] as unknown[]).every((org) => typeof org === 'object' && org !== null && typeof (org as Record<string, unknown>)['orgId'] === 'string' && isDecision((org as Record<string, unknown>)['decision']));
}
