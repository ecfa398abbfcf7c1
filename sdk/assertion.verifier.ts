import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { MemoryReplayStore, ReplayStoreFullError, type ReplayStore } from './replay.store.js';
import { TwoFactorAssertionError } from './sdk.errors.js';

/** How assertions are signed: the shared HS256 secret (`AUTH_JWT_SECRET`), or the service's ES256 keys at `/.well-known/jwks.json`. */
export type AssertionKeys = { readonly secret: string } | { readonly jwksUrl: string };

/** Assertions live two minutes (DESIGN §8); a longer one was not minted by the service. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 120;
const CLOCK_TOLERANCE_SECONDS = 5;

/** A second factor the service checked. */
export interface VerifiedAssertion {
  readonly userId: string;
  /** Authentication methods, e.g. `["otp"]`. */
  readonly amr: readonly string[];
  /** When the user passed the check. */
  readonly authTime: Date;
}

export interface AssertionVerifierOptions {
  readonly keys: AssertionKeys;
  /** The host's origin: the assertion's audience. */
  readonly audience: string;
  /** The service's base URL: the assertion's issuer. */
  readonly issuer: string;
  readonly replayStore?: ReplayStore;
  readonly now?: () => Date;
}

export class AssertionVerifier {
  private readonly key: Uint8Array | JWTVerifyGetKey;
  private readonly algorithm: 'HS256' | 'ES256';
  private readonly replayStore: ReplayStore;
  private readonly now: () => Date;

  constructor(private readonly options: AssertionVerifierOptions) {
    if ('secret' in options.keys) {
      this.key = new TextEncoder().encode(options.keys.secret);
      this.algorithm = 'HS256';
    } else {
      this.key = createRemoteJWKSet(new URL(options.keys.jwksUrl));
      this.algorithm = 'ES256';
    }
    this.now = options.now ?? (() => new Date());
    this.replayStore = options.replayStore ?? new MemoryReplayStore(undefined, () => this.now().getTime());
  }

  async verify(tfa: string, expected: { readonly userId?: string } = {}): Promise<VerifiedAssertion> {
    if (typeof tfa !== 'string' || tfa === '') throw new TwoFactorAssertionError('malformed', 'The assertion is missing');
    const payload = await this.checkSignatureAndClaims(tfa);
    const claims = requiredClaims(payload);
    if (claims.exp - claims.iat > MAX_ASSERTION_LIFETIME_SECONDS) throw new TwoFactorAssertionError('lifetime_too_long', 'The assertion lives longer than two minutes');
    if (expected.userId !== undefined && claims.sub !== expected.userId) throw new TwoFactorAssertionError('wrong_user', 'The assertion is for another user');
    // Claimed last: a forged or foreign assertion must not use up an id.
    await this.claimOnce(claims.jti, new Date((claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000));
    return { userId: claims.sub, amr: claims.amr, authTime: new Date(claims.auth_time * 1000) };
  }

  private async checkSignatureAndClaims(tfa: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(tfa, this.key as Uint8Array, {
        algorithms: [this.algorithm],
        audience: this.options.audience,
        issuer: this.options.issuer,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'auth_time', 'amr'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: this.now(),
      });
      return payload;
    } catch (error) {
      throw translate(error);
    }
  }

  private async claimOnce(jti: string, expiresAt: Date): Promise<void> {
    let first: boolean;
    try {
      first = await this.replayStore.claim(jti, expiresAt);
    } catch (error) {
      if (error instanceof ReplayStoreFullError) throw new TwoFactorAssertionError('replay_store_full', 'Too many assertions to remember: refused rather than risk a replay');
      throw error;
    }
    if (!first) throw new TwoFactorAssertionError('replayed', 'The assertion was already used');
  }
}

interface AssertionClaims {
  readonly sub: string;
  readonly jti: string;
  readonly iat: number;
  readonly exp: number;
  readonly auth_time: number;
  readonly amr: string[];
}

function requiredClaims(payload: JWTPayload): AssertionClaims {
  const { sub, jti, iat, exp } = payload;
  const authTime = payload['auth_time'];
  const amr = payload['amr'];
  if (typeof sub !== 'string' || sub === '' || typeof jti !== 'string' || jti === '' || typeof iat !== 'number' || typeof exp !== 'number')
    throw new TwoFactorAssertionError('missing_claim', 'The assertion lacks sub, jti, iat or exp');
  if (typeof authTime !== 'number' || !Array.isArray(amr) || amr.length === 0 || !amr.every((m) => typeof m === 'string'))
    throw new TwoFactorAssertionError('missing_claim', 'The assertion lacks auth_time or amr');
  return { sub, jti, iat, exp, auth_time: authTime, amr: amr as string[] };
}

/** By jose's stable error codes, not instanceof: errors may cross realms (test VMs, bundlers). */
function translate(error: unknown): TwoFactorAssertionError {
  const { code, claim } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; claim?: unknown };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new TwoFactorAssertionError('expired', 'The assertion has expired');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud') return new TwoFactorAssertionError('wrong_audience', 'The assertion is for another host');
      if (claim === 'iss') return new TwoFactorAssertionError('wrong_issuer', 'The assertion comes from another issuer');
      return new TwoFactorAssertionError('missing_claim', `The assertion's ${String(claim)} claim is missing or invalid`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return new TwoFactorAssertionError('invalid_signature', 'The assertion is not signed by the service');
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new TwoFactorAssertionError('keys_unavailable', 'The service keys could not be fetched');
    case undefined:
      // Not a jose error: the JWKS request itself failed (network).
      return new TwoFactorAssertionError('keys_unavailable', 'The service keys could not be fetched');
    default:
      return new TwoFactorAssertionError('malformed', 'The assertion is not a valid JWT');
  }
}
