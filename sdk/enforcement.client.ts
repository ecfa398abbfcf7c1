import { AssertionVerifier, type AssertionKeys, type VerifiedAssertion } from './assertion.verifier.js';
import { ChangeFeedFollower, type FeedState } from './change-feed.follower.js';
import { LastDecisionCache } from './decision.cache.js';
import { HostDecisionCache, isHostDocument, type HostDecisionDocument } from './host-decision.cache.js';
import { comparePositions, isPosition, START_POSITION } from './stream.position.js';
import { isDecision, NOTHING_REQUIRED, type EnforcementDecision } from './enforcement.decision.js';
import { DEFAULT_HANDOFF_TTL_SECONDS, handoffClaims, MAX_HANDOFF_TTL_SECONDS, signHandoff, type HandoffRequest, type HandoffSigning } from './handoff.token.js';
import type { ReplayStore } from './replay.store.js';
import { EnforcementServiceError } from './sdk.errors.js';

/** The platform service account's bearer token, or a function that returns a fresh one (called per request; cache inside it). */
export type TokenSource = string | (() => Promise<string> | string);

export interface EnforcementClientOptions {
  /** The service's base URL, e.g. `https://2fa.internal.example.com`. */
  readonly baseUrl: string;
  /** A token with the `platform` role (DESIGN §4). */
  readonly token: TokenSource;
  /** How long `decide` waits for the service before applying the fail rules. Default 800 ms. */
  readonly timeoutMs?: number;
  /** Where the browser reaches the pages (`/two-factor/*`), when not at `baseUrl` (e.g. proxied under the host). */
  readonly pagesBaseUrl?: string;
  /** How hand-off tokens are signed: the API tokens' HS256 secret, or your own signer. */
  readonly handoff: HandoffSigning;
  /** Hand-off lifetime in seconds; default 300, at most 600. */
  readonly handoffTtlSeconds?: number;
  /** How the service signs `tfa` assertions: the shared HS256 secret, or its JWKS URL (ES256). */
  readonly assertion: AssertionKeys;
  /** The assertions' issuer; default the origin of `pagesBaseUrl` (the service names itself by its `APP_BASE_URL` origin). */
  readonly assertionIssuer?: string;
  /** Where used assertion ids are kept; default in memory (one process). Share one across instances. */
  readonly replayStore?: ReplayStore;
  /** This host's origin (`https://app.example.com`): the assertions' audience and the base of `returnTo` URLs. */
  readonly hostOrigin: string;
  /** How many users' last decisions are remembered for the fail rules. Default 10,000. */
  readonly cacheSize?: number;
  /**
   * What a user gets when the service cannot answer and their last known decision was not
   * `redirect` (or is not known). Default `'allow'`: an outage of the 2FA service should not take
   * the host down with it, and a user never seen as hard-enforced has no known reason to be
   * stopped. `'redirect'` fails closed for everyone (the pages are then unreachable too).
   */
  readonly whenUnavailable?: 'allow' | 'redirect';
  /** Called when a decision was degraded, with why (for the host's logs and metrics). Never given a token. */
  readonly onDegraded?: (event: { readonly userId: string; readonly orgId?: string; readonly reason: string; readonly action: 'allow' | 'redirect' }) => void;
  /** The `fetch` to use (default: the global one). */
  readonly fetch?: typeof fetch;
  /**
   * Host cache mode: decisions are answered from this process's memory, kept fresh by the
   * service's change feed (`GET /v1/enforcement/changes`). Without it every `decide` asks the service.
   */
  readonly cache?: EnforcementCacheOptions;
}

/** The host cache (see `EnforcementClientOptions.cache`). */
export interface EnforcementCacheOptions {
  /** Most users kept (least recently asked for leaves first). Each costs a few hundred bytes. */
  readonly maxUsers: number;
  /** Feed silence (not even its keep-alive) after which the connection is replaced. Default 45,000 ms (three of the service's default heartbeats). */
  readonly staleAfterMs?: number;
  /** First reconnection delay; doubles per failure, with jitter. Default 500 ms. */
  readonly reconnectDelayMs?: number;
  /** Longest reconnection delay. Default 30,000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** Called when the feed starts or stops following (for the host's logs and metrics). Never given a token. */
  readonly onFeedState?: (state: FeedState, reason: string) => void;
}

export interface DecideOptions {
  /**
   * Read your writes: a `position` a command answered. In cache mode the answer comes from
   * memory only once the feed has reached it; before that the service is asked with it.
   */
  readonly minPosition?: string;
}

export interface EnforcementClient {
  /** The host origin the client was configured with. */
  readonly hostOrigin: string;
  /** Where the browser reaches the pages. */
  readonly pagesBaseUrl: string;
  /**
   * What must happen for this user now. Never throws for an outage: when the service is
   * unreachable, slow or answers 5xx, a user last seen as `redirect` is redirected (fail closed),
   * anyone else gets `whenUnavailable` (default allow), both with `degraded: true`. A 404 (user
   * or membership unknown to the service) is `allow`.
   * @throws {@link EnforcementServiceError} on any other 4xx (bad token, bad id): a bug to fix.
   * @throws whatever the `token` function throws (the host's own token source is not an outage of the service).
   */
  decide(userId: string, orgId?: string, options?: DecideOptions): Promise<EnforcementDecision>;
  /** The URL that signs the user into the pages for `purpose` (a single-use hand-off token, five minutes). */
  handoffUrl(request: HandoffRequest): Promise<string>;
  /**
   * Checks the `tfa` assertion the verify page sent back: signature, audience (this host),
   * issuer (the service), at most two minutes old, and never seen before.
   * @throws {@link TwoFactorAssertionError} when it must not be trusted.
   */
  verifyAssertion(tfa: string, expected?: { readonly userId?: string }): Promise<VerifiedAssertion>;
  /** Stops following the change feed (cache mode); `decide` then asks the service. Call it when the host shuts down. */
  close(): Promise<void>;
}

/** Creates the client a host keeps for its lifetime (it holds the decision cache and the replay store). */
export function createEnforcementClient(options: EnforcementClientOptions): EnforcementClient {
  const baseUrl = withoutTrailingSlash(httpUrl(options.baseUrl, 'baseUrl'));
  const pagesBaseUrl = withoutTrailingSlash(httpUrl(options.pagesBaseUrl ?? baseUrl, 'pagesBaseUrl'));
  const hostOrigin = new URL(httpUrl(options.hostOrigin, 'hostOrigin')).origin;
  const timeoutMs = options.timeoutMs ?? 800;
  if (!(timeoutMs > 0)) throw new TypeError('timeoutMs must be positive');
  const ttl = options.handoffTtlSeconds ?? DEFAULT_HANDOFF_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_HANDOFF_TTL_SECONDS) throw new TypeError(`handoffTtlSeconds must be an integer from 1 to ${MAX_HANDOFF_TTL_SECONDS}`);
  if (!options.handoff || !('secret' in options.handoff || 'sign' in options.handoff)) throw new TypeError('handoff needs a secret or a sign function');
  if (!options.assertion || !('secret' in options.assertion || 'jwksUrl' in options.assertion)) throw new TypeError('assertion needs a secret or a jwksUrl');
  const whenUnavailable = options.whenUnavailable ?? 'allow';
  const lastDecisions = new LastDecisionCache<LastKnown>(options.cacheSize ?? 10_000);
  const doFetch = options.fetch ?? fetch;
  const verifier = new AssertionVerifier({
    keys: options.assertion,
    audience: hostOrigin,
    issuer: options.assertionIssuer ?? new URL(pagesBaseUrl).origin,
    ...(options.replayStore ? { replayStore: options.replayStore } : {}),
  });

  const tokenOf = async (): Promise<string> => (typeof options.token === 'function' ? await options.token() : options.token);
  const cached = options.cache ? hostCache(options.cache, baseUrl, tokenOf, doFetch, timeoutMs) : null;

  const degraded = (userId: string, orgId: string | undefined, reason: string): EnforcementDecision => {
    // Either memory counts: the last HTTP answer, or the host cache's copy (kept fresh by the feed until it went down).
    const remembered = cached?.lastKnown(userId, orgId);
    const last = lastDecisions.get(cacheKey(userId, orgId)) ?? remembered;
    const closed = last?.action === 'redirect' || remembered?.action === 'redirect' || whenUnavailable === 'redirect';
    options.onDegraded?.({ userId, ...(orgId !== undefined ? { orgId } : {}), reason, action: closed ? 'redirect' : 'allow' });
    // The last known twoFactorEnabled, so a sign-in that asks it during an outage still sends a user with 2FA to the challenge.
    const twoFactorEnabled = last?.twoFactorEnabled ?? false;
    return closed
      ? { ...NOTHING_REQUIRED, requirement: 'hard', action: 'redirect', twoFactorEnabled, degraded: true }
      : { ...NOTHING_REQUIRED, twoFactorEnabled, degraded: true };
  };

  return {
    hostOrigin,
    pagesBaseUrl,
    async decide(userId, orgId, decideOptions = {}) {
      if (typeof userId !== 'string' || userId === '') throw new TypeError('decide: userId is required');
      const { minPosition } = decideOptions;
      if (minPosition !== undefined && !isPosition(minPosition)) throw new TypeError('decide: minPosition must be a position a command answered');
      const fromMemory = cached ? await cached.decide(userId, orgId, minPosition) : undefined;
      if (fromMemory !== undefined) return fromMemory;
      const query = new URLSearchParams({ ...(orgId !== undefined ? { orgId } : {}), ...(minPosition !== undefined ? { minPosition } : {}) }).toString();
      const url = `${baseUrl}/v1/enforcement/${encodeURIComponent(userId)}${query ? `?${query}` : ''}`;
      const token = await tokenOf();
      let response: Response;
      let body: unknown;
      try {
        // One deadline for the answer and its body: a service that stalls mid-body is as slow as one that never answers.
        const signal = AbortSignal.timeout(timeoutMs);
        // Never follow a redirect with the bearer token: the service does not answer 3xx, so one is a broken answer.
        response = await doFetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, signal, redirect: 'manual' });
        body = parseJson(await response.text());
      } catch (error) {
        return degraded(userId, orgId, isTimeout(error) ? 'timeout' : 'unreachable');
      }
      if (response.status >= 500) return degraded(userId, orgId, `http_${response.status}`);
      if (response.status === 404) {
        lastDecisions.set(cacheKey(userId, orgId), { action: 'allow', twoFactorEnabled: false });
        return NOTHING_REQUIRED;
      }
      if (response.status >= 400) throw serviceError(response.status, body);
      if (response.status !== 200 || !isDecision(body)) return degraded(userId, orgId, 'invalid_answer');
      lastDecisions.set(cacheKey(userId, orgId), { action: body.action, twoFactorEnabled: body.twoFactorEnabled });
      return body;
    },
    async handoffUrl(request) {
      const claims = handoffClaims(request, Math.floor(Date.now() / 1000), ttl);
      const token = await signHandoff(claims, options.handoff);
      return `${pagesBaseUrl}/two-factor/handoff?token=${encodeURIComponent(token)}`;
    },
    verifyAssertion: (tfa, expected) => verifier.verify(tfa, expected),
    close: async () => cached?.close(),
  };
}

interface CachedDecisions {
  /** From memory when the feed is following (and has reached `minPosition`), loading the user on a miss; undefined: ask the service. */
  decide(userId: string, orgId: string | undefined, minPosition: string | undefined): Promise<EnforcementDecision | undefined> | EnforcementDecision | undefined;
  lastKnown(userId: string, orgId: string | undefined): EnforcementDecision | undefined;
  close(): Promise<void>;
}

function hostCache(cacheOptions: EnforcementCacheOptions, baseUrl: string, token: () => Promise<string>, doFetch: typeof fetch, timeoutMs: number): CachedDecisions {
  const cache = new HostDecisionCache(cacheOptions.maxUsers);
  const follower = new ChangeFeedFollower({
    url: `${baseUrl}/v1/enforcement/changes`,
    token,
    fetch: doFetch,
    cache,
    initialDelayMs: positive(cacheOptions.reconnectDelayMs ?? 500, 'cache.reconnectDelayMs'),
    maxDelayMs: positive(cacheOptions.maxReconnectDelayMs ?? 30_000, 'cache.maxReconnectDelayMs'),
    staleAfterMs: positive(cacheOptions.staleAfterMs ?? 45_000, 'cache.staleAfterMs'),
    ...(cacheOptions.onFeedState ? { onState: cacheOptions.onFeedState } : {}),
  });
  const loads = new Map<string, Promise<void>>();

  /** GET /v1/enforcement/documents/:userId, no older than the feed (minPosition), into the cache; a failure leaves the user out. */
  const load = async (userId: string, position: string): Promise<void> => {
    cache.beginLoad(userId);
    let doc: HostDecisionDocument | null = null;
    try {
      const query = position === START_POSITION ? '' : `?minPosition=${encodeURIComponent(position)}`;
      const response = await doFetch(`${baseUrl}/v1/enforcement/documents/${encodeURIComponent(userId)}${query}`, {
        headers: { authorization: `Bearer ${await token()}`, accept: 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      const body = parseJson(await response.text());
      if (response.status === 200 && isHostDocument(body) && body.userId === userId) doc = body;
    } catch {
      // Unreachable or slow: the decision route is asked instead, with its fail rules.
    } finally {
      cache.endLoad(userId, doc);
    }
  };

  return {
    decide(userId, orgId, minPosition) {
      const position = follower.currentPosition();
      if (position === null || (minPosition !== undefined && comparePositions(position, minPosition) < 0)) return undefined;
      const hit = cache.decide(userId, orgId, Date.now());
      if (hit !== undefined) return hit;
      let loading = loads.get(userId);
      if (!loading) {
        loading = load(userId, position).finally(() => loads.delete(userId));
        loads.set(userId, loading);
      }
      return loading.then(() => cache.decide(userId, orgId, Date.now()));
    },
    lastKnown: (userId, orgId) => cache.lastKnown(userId, orgId),
    close: () => follower.stop(),
  };
}

function positive(value: number, name: string): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new TypeError(`${name} must be a positive number`);
  return value;
}

interface LastKnown {
  readonly action: EnforcementDecision['action'];
  readonly twoFactorEnabled: boolean;
}

function cacheKey(userId: string, orgId: string | undefined): string {
  // NUL cannot occur in a service id, so the pair cannot collide with another pair.
  return orgId === undefined ? userId : `${userId}\u0000${orgId}`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isTimeout(error: unknown): boolean {
  // By name, not instanceof: the DOMException may come from another realm (a test VM, a bundler's fetch).
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return name === 'TimeoutError' || name === 'AbortError';
}

function serviceError(status: number, body: unknown): EnforcementServiceError {
  const problem = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const code = typeof problem['code'] === 'string' ? problem['code'] : `http_${status}`;
  const detail = typeof problem['detail'] === 'string' ? problem['detail'] : typeof problem['title'] === 'string' ? problem['title'] : 'The service refused the request';
  return new EnforcementServiceError(status, code, detail);
}

function httpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`${name} must be an http(s) URL`);
  return url.href;
}

function withoutTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
