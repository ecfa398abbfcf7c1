import { generateSecret, generateSync, generateURI, verifySync } from 'otplib';
import { TOTP_DIGITS, TOTP_DRIFT_STEPS, TOTP_PERIOD_SECONDS, TOTP_SECRET_BYTES, timeStepAt } from './totp.policy.js';

const CODE_PATTERN = new RegExp(`^\\d{${TOTP_DIGITS}}$`);

/** Base32 without padding, as authenticator apps expect it in otpauth:// URIs. */
export function generateTotpSecret(): string {
  return generateSecret({ length: TOTP_SECRET_BYTES });
}

export interface TotpUriInput {
  readonly secret: string;
  readonly issuer: string;
  readonly accountName: string;
}

/**
 * Key URI format (Google Authenticator wiki). otplib omits default parameters; we spell them out
 * so an app with other defaults still computes SHA-1 / 6 digits / 30 s codes.
 */
export function totpUri({ secret, issuer, accountName }: TotpUriInput): string {
  // The configuration refuses such an issuer at start; this guards other callers.
  if (issuer.includes(':')) throw new RangeError('the issuer must not contain ":"');
  const label = labelAccountName(accountName);
  const uri = generateURI({ issuer, label, secret, algorithm: 'sha1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS });
  const explicit = [`algorithm=SHA1`, `digits=${TOTP_DIGITS}`, `period=${TOTP_PERIOD_SECONDS}`].filter(
    (param) => !uri.includes(`${param.split('=')[0]}=`),
  );
  return explicit.length === 0 ? uri : `${uri}&${explicit.join('&')}`;
}

/**
 * The label is "issuer:account", and the Key Uri Format allows no colon inside either part, not even
 * percent-encoded (apps split on the first "%3A" as well). Ids may contain ":", so it is shown as
 * "." in the app: the label only names the entry for the user, the secret is what identifies it.
 * otplib percent-encodes what remains.
 */
export function labelAccountName(accountName: string): string {
  return accountName.replaceAll(':', '.');
}

export interface MatchTimeStepInput {
  readonly secret: string;
  readonly code: string;
  readonly at: Date;
  /** The last accepted step from the user's history: steps at or before it are refused (replay). */
  readonly afterTimeStep?: number | null;
}

/** The RFC 6238 time step the code belongs to, within one step of drift; null when it matches none. */
export function matchTimeStep({ secret, code, at, afterTimeStep = null }: MatchTimeStepInput): number | null {
  if (!CODE_PATTERN.test(code)) return null;
  const epoch = epochSeconds(at);
  if (afterTimeStep !== null) {
    if (!Number.isSafeInteger(afterTimeStep) || afterTimeStep < 0) throw new RangeError('afterTimeStep must be a non-negative integer');
    // otplib throws when afterTimeStep lies beyond the window; no step can match then anyway.
    if (afterTimeStep >= timeStepAt(at.getTime()) + TOTP_DRIFT_STEPS) return null;
  }
  const result = withoutSecretInErrors(() =>
    verifySync({
      secret,
      token: code,
      epoch,
      epochTolerance: TOTP_DRIFT_STEPS * TOTP_PERIOD_SECONDS,
      ...(afterTimeStep === null ? {} : { afterTimeStep }),
    }),
  );
  // The functional API types the result for HOTP too; a TOTP match always carries its step.
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}

/** The code an authenticator app shows at `at`; for tests and tooling, never sent anywhere. */
export function generateTotpCode({ secret, at }: { readonly secret: string; readonly at: Date }): string {
  return withoutSecretInErrors(() => generateSync({ secret, epoch: epochSeconds(at) }));
}

function epochSeconds(at: Date): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError('instant must be a valid date after 1970');
  return Math.floor(ms / 1000);
}

// otplib's decoding errors may quote the offending characters of the secret; they must not reach a log.
function withoutSecretInErrors<T>(run: () => T): T {
  try {
    return run();
  } catch {
    throw new Error('TOTP computation failed: the stored secret is malformed');
  }
}
