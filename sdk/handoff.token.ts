import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';

/** What a hand-off is for: which page the service opens (DESIGN §8). */
export type HandoffPurpose = 'setup' | 'verify' | 'manage' | 'console';

const PURPOSES: readonly string[] = ['setup', 'verify', 'manage', 'console'];

/** The audience every hand-off token is minted for. */
export const HANDOFF_AUDIENCE = 'two-factor-pages';
/** Hand-offs live five minutes: enough for a redirect, short enough to be useless once leaked. */
export const DEFAULT_HANDOFF_TTL_SECONDS = 300;
/** The service refuses hand-offs that live longer than this. */
export const MAX_HANDOFF_TTL_SECONDS = 600;

export interface HandoffRequest {
  /** The host's id of the signed-in user (the service's user id). */
  readonly userId: string;
  readonly purpose: HandoffPurpose;
  /** Absolute URL the pages send the user back to; its origin must be in the service's `PAGES_RETURN_ORIGINS`. */
  readonly returnTo: string;
  /** The organisation in context, if any. */
  readonly orgId?: string;
  /** Staff roles as in API tokens (`support`, `auditor`, ...), for the console. */
  readonly roles?: readonly string[];
  /** Where the pages' "Sign out" goes (absolute URL on the host). */
  readonly signOutUrl?: string;
}

/** The claims of a hand-off token, as signed. */
export interface HandoffClaims {
  readonly sub: string;
  readonly aud: typeof HANDOFF_AUDIENCE;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly purpose: HandoffPurpose;
  readonly returnTo: string;
  readonly orgId?: string;
  readonly roles?: readonly string[];
  readonly signOutUrl?: string;
}

/**
 * Signs with the API tokens' HS256 secret (and their issuer, when the service checks one:
 * `AUTH_ISSUER`), or hands the claims to the host's own signer (its identity provider's key).
 */
export type HandoffSigning = { readonly secret: string; readonly issuer?: string } | { readonly sign: (claims: HandoffClaims) => Promise<string> | string };

export function handoffClaims(request: HandoffRequest, nowSeconds: number, ttlSeconds: number): HandoffClaims {
  if (typeof request.userId !== 'string' || request.userId === '') throw new TypeError('handoffUrl: userId is required');
  if (!PURPOSES.includes(request.purpose)) throw new TypeError(`handoffUrl: purpose must be one of ${PURPOSES.join(', ')}`);
  return {
    sub: request.userId,
    aud: HANDOFF_AUDIENCE,
    iat: nowSeconds,
    exp: nowSeconds + ttlSeconds,
    // 128 random bits: the service accepts each id once.
    jti: randomBytes(16).toString('base64url'),
    purpose: request.purpose,
    returnTo: absoluteHttpUrl(request.returnTo, 'returnTo'),
    ...(request.orgId !== undefined ? { orgId: request.orgId } : {}),
    ...(request.roles !== undefined ? { roles: [...request.roles] } : {}),
    ...(request.signOutUrl !== undefined ? { signOutUrl: absoluteHttpUrl(request.signOutUrl, 'signOutUrl') } : {}),
  };
}

export async function signHandoff(claims: HandoffClaims, signing: HandoffSigning): Promise<string> {
  if ('sign' in signing) return signing.sign(claims);
  const { iat, exp, ...rest } = claims;
  return new SignJWT({ ...rest, ...(signing.issuer !== undefined ? { iss: signing.issuer } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(signing.secret));
}

/** Only absolute http(s) URLs: anything else would be a relative or script URL the pages cannot send a user back to. */
export function absoluteHttpUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`handoffUrl: ${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`handoffUrl: ${name} must be an http(s) URL`);
  return url.href;
}
