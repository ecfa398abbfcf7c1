import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isValidId } from '../kernel/ids.js';
import { STAFF_ROLES, type StaffRole } from '../kernel/principal.js';
import type { PagePurpose } from './pages.strings.js';

export const HANDOFF_AUDIENCE = 'two-factor-pages';
/** DESIGN §8: a hand-off lives at most ten minutes. */
export const HANDOFF_MAX_LIFETIME_SECONDS = 600;
const IAT_SKEW_SECONDS = 60;
const PURPOSES: readonly PagePurpose[] = ['setup', 'verify', 'manage', 'console'];
// Both URLs travel in the sealed cookie, which browsers cap at 4 KB.
const MAX_URL_LENGTH = 1000;

/** The same key API tokens are verified with (runtime.tokenKey): an HS256 secret or a JWKS URL. */
export type HandoffKey = { readonly kind: 'secret'; readonly secret: Uint8Array } | { readonly kind: 'jwks'; readonly url: string };

export interface Handoff {
  readonly sub: string;
  readonly jti: string;
  readonly exp: number;
  readonly purpose: PagePurpose;
  readonly returnTo: URL;
  readonly signOutUrl: URL | null;
  readonly orgId: string | null;
  readonly roles: readonly StaffRole[];
}

export type HandoffRefusal = 'expired' | 'invalid' | 'return_to';

export class HandoffRefused extends Error {
  override readonly name = 'HandoffRefused';
  constructor(readonly reason: HandoffRefusal, readonly returnOrigin: string | null = null) {
    super(`hand-off refused: ${reason}`);
  }
}

/**
 * Checks a hand-off token (DESIGN §8): signature with the API tokens' key and pinned algorithms,
 * `aud`, a lifetime of at most ten minutes, the claims' shapes, and a `returnTo` (and optional
 * `signOutUrl`) on an allowed origin. Single use is the caller's part (it needs the store).
 */
export class HandoffVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithms: string[];

  constructor(
    key: HandoffKey,
    private readonly issuer: string | undefined,
    private readonly allowedOrigins: ReadonlySet<string>,
  ) {
    this.key = key.kind === 'secret' ? key.secret : createRemoteJWKSet(new URL(key.url));
    this.algorithms = key.kind === 'secret' ? ['HS256'] : ['RS256', 'PS256', 'ES256', 'EdDSA'];
  }

  async verify(token: string, now: Date): Promise<Handoff> {
    const payload = await this.verifiedPayload(token, now);
    const returnTo = this.allowedUrl(payload['returnTo']);
    const { iat, exp, sub, jti } = payload as { iat: number; exp: number; sub: unknown; jti: unknown };
    const valid =
      iat <= now.getTime() / 1000 + IAT_SKEW_SECONDS &&
      exp - iat <= HANDOFF_MAX_LIFETIME_SECONDS &&
      typeof sub === 'string' && isValidId(sub) &&
      typeof jti === 'string' && jti.length >= 8 && jti.length <= 256 &&
      PURPOSES.includes(payload['purpose'] as PagePurpose) &&
      (payload['orgId'] === undefined || (typeof payload['orgId'] === 'string' && isValidId(payload['orgId'])));
    if (!valid) throw new HandoffRefused('invalid', returnTo?.origin ?? null);
    if (!returnTo) throw new HandoffRefused('return_to');
    const signOut = payload['signOutUrl'] === undefined ? null : this.allowedUrl(payload['signOutUrl']);
    if (payload['signOutUrl'] !== undefined && !signOut) throw new HandoffRefused('return_to', returnTo.origin);
    const claimed = Array.isArray(payload['roles']) ? payload['roles'] : [];
    return {
      sub: sub as string,
      jti: jti as string,
      exp,
      purpose: payload['purpose'] as PagePurpose,
      returnTo,
      signOutUrl: signOut,
      orgId: (payload['orgId'] as string | undefined) ?? null,
      roles: STAFF_ROLES.filter((role) => claimed.includes(role)),
    };
  }

  /** An absolute http(s) URL on an allowed origin, else null (never an open redirect). */
  allowedUrl(value: unknown): URL | null {
    if (typeof value !== 'string' || value.length > MAX_URL_LENGTH) return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return null;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
    if (url.username || url.password) return null;
    return this.allowedOrigins.has(url.origin) ? url : null;
  }

  private async verifiedPayload(token: string, now: Date): Promise<JWTPayload> {
    const options = {
      algorithms: this.algorithms,
      audience: HANDOFF_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat', 'jti'],
      currentDate: now,
      ...(this.issuer ? { issuer: this.issuer } : {}),
    };
    try {
      const { payload } = typeof this.key === 'function' ? await jwtVerify(token, this.key, options) : await jwtVerify(token, this.key, options);
      return payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new HandoffRefused('expired', this.allowedUrl(error.payload['returnTo'])?.origin ?? null);
      throw new HandoffRefused('invalid');
    }
  }
}
