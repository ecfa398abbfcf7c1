import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { STAFF_ROLES, type Principal, type StaffRole } from '../kernel/principal.js';
import { isValidId } from '../kernel/ids.js';
import { LruMap } from '../kernel/lru.map.js';

const MAX_CACHED_TOKENS = 10_000;
const CACHE_MS = 60_000;
/** Clocks of issuers and of this service may disagree a little; more than this is a forged or broken `iat`. */
const IAT_SKEW_SECONDS = 60;

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export type TokenKey = { readonly kind: 'secret'; readonly secret: Uint8Array } | { readonly kind: 'jwks'; readonly url: string };

export interface TokenVerifierOptions {
  readonly key: TokenKey;
  readonly issuer?: string;
  readonly audience?: string;
  /** The longest lifetime (exp − iat) a token may claim; a stolen long-lived token is a standing key. */
  readonly maxLifetimeMs: number;
}

/**
 * Bearer JWTs only. Algorithms are pinned (HS256 for a shared secret; asymmetric ones for JWKS) so a
 * token cannot choose its own verification method (RFC 8725 section 3.1).
 */
export class TokenVerifier {
  private readonly getKey: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;
  private readonly maxLifetimeSeconds: number;

  constructor(options: TokenVerifierOptions) {
    this.maxLifetimeSeconds = Math.floor(options.maxLifetimeMs / 1000);
    this.getKey = options.key.kind === 'secret' ? options.key.secret : createRemoteJWKSet(new URL(options.key.url));
    this.options = {
      algorithms: options.key.kind === 'secret' ? ['HS256'] : ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['sub', 'exp', 'iat'],
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    };
  }

  /**
   * Verified tokens, for the hot path where the platform sends the same token on every request.
   * Only a token that passed full verification enters; an entry lives until the token's own
   * expiry but at most a minute, so a rotated key or secret takes effect within that bound.
   */
  private readonly verified = new LruMap<string, { principal: Principal; until: number }>(MAX_CACHED_TOKENS);

  async verify(token: string): Promise<Principal> {
    const cached = this.verifiedBefore(token);
    if (cached !== undefined) return cached;
    const { principal, expiresAt } = await this.verifyFully(token);
    this.verified.set(token, { principal, until: Math.min(expiresAt, Date.now() + CACHE_MS) });
    return principal;
  }

  /** The principal of a token verified within the cache's bound, without waiting; else undefined (then `verify`). */
  verifiedBefore(token: string): Principal | undefined {
    // A peek, not a use: the hot path stays a single lookup, and the bound evicts the oldest verified.
    const cached = this.verified.peek(token);
    if (cached === undefined) return undefined;
    if (cached.until > Date.now()) return cached.principal;
    this.verified.delete(token);
    return undefined;
  }

  private async verifyFully(token: string): Promise<{ principal: Principal; expiresAt: number }> {
    let payload;
    try {
      ({ payload } =
        typeof this.getKey === 'function'
          ? await jwtVerify(token, this.getKey, this.options)
          : await jwtVerify(token, this.getKey, this.options));
    } catch {
      throw new InvalidTokenError('token is not valid');
    }
    const { iat, exp } = payload as { iat: number; exp: number };
    if (iat > Date.now() / 1000 + IAT_SKEW_SECONDS) throw new InvalidTokenError('token is issued in the future');
    if (exp - iat > this.maxLifetimeSeconds) throw new InvalidTokenError('token lives longer than allowed');
    const sub = payload.sub;
    if (typeof sub !== 'string' || !isValidId(sub)) throw new InvalidTokenError('token subject is not valid');
    const claimed = Array.isArray(payload['roles']) ? payload['roles'] : [];
    const roles = STAFF_ROLES.filter((role: StaffRole) => claimed.includes(role));
    return { principal: { id: sub, roles }, expiresAt: exp * 1000 };
  }
}
