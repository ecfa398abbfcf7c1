/**
 * The errors the SDK throws. Each carries a stable `code` so a host branches on it, never on a
 * message; none carries a token, a secret or a code.
 */

/** The enforcement service refused the request (a 4xx other than 404): a host misconfiguration to fix, not an outage to ride out. */
export class EnforcementServiceError extends Error {
  override readonly name = 'EnforcementServiceError';
  constructor(
    /** HTTP status the service answered. */
    readonly status: number,
    /** The problem's `code` (e.g. `invalid_token`), or `http_<status>` when the body had none. */
    readonly code: string,
    /** The problem's `detail`, as the service wrote it. */
    readonly detail: string,
  ) {
    super(`Enforcement service answered ${status} ${code}: ${detail}`);
  }
}

/** Why an assertion was refused. */
export type AssertionErrorCode =
  | 'malformed'
  | 'invalid_signature'
  | 'expired'
  | 'wrong_audience'
  | 'wrong_issuer'
  | 'wrong_user'
  | 'lifetime_too_long'
  | 'missing_claim'
  | 'replayed'
  | 'replay_store_full'
  | 'keys_unavailable';

/** A `tfa` assertion that must not be trusted: the host treats the second factor as not done. */
export class TwoFactorAssertionError extends Error {
  override readonly name = 'TwoFactorAssertionError';
  constructor(
    readonly code: AssertionErrorCode,
    message: string,
  ) {
    super(message);
  }
}
