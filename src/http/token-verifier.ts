import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { STAFF_ROLES, type Principal, type StaffRole } from './principal.js';
import { isValidId } from '../kernel/ids.js';

export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';
}

export type TokenKey = { readonly kind: 'secret'; readonly secret: Uint8Array } | { readonly kind: 'jwks'; readonly url: string };

export interface TokenVerifierOptions {
  readonly key: TokenKey;
  readonly issuer?: string;
  readonly audience?: string;
}

/**
 * Bearer JWTs only. Algorithms are pinned (HS256 for a shared secret; asymmetric ones for JWKS) so a
 * token cannot choose its own verification method (RFC 8725 section 3.1).
 */
export class TokenVerifier {
  private readonly getKey: Uint8Array | JWTVerifyGetKey;
  private readonly options: JWTVerifyOptions;

  constructor(options: TokenVerifierOptions) {
    this.getKey = options.key.kind === 'secret' ? options.key.secret : createRemoteJWKSet(new URL(options.key.url));
    this.options = {
      algorithms: options.key.kind === 'secret' ? ['HS256'] : ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['sub', 'exp'],
      ...(options.issuer ? { issuer: options.issuer } : {}),
      ...(options.audience ? { audience: options.audience } : {}),
    };
  }

  async verify(token: string): Promise<Principal> {
    let payload;
    try {
      ({ payload } =
        typeof this.getKey === 'function'
          ? await jwtVerify(token, this.getKey, this.options)
          : await jwtVerify(token, this.getKey, this.options));
    } catch {
      throw new InvalidTokenError('token is not valid');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || !isValidId(sub)) throw new InvalidTokenError('token subject is not valid');
    const claimed = Array.isArray(payload['roles']) ? payload['roles'] : [];
    const roles = STAFF_ROLES.filter((role: StaffRole) => claimed.includes(role));
    return { id: sub, roles };
  }
}
