/**
 * TOTP parameters fixed by the product (RFC 6238 with SHA-1, 6 digits, 30 s steps). Kept free of
 * any crypto import so the pure user decider can check a matched step against the command's instant.
 */
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
/** One step either way absorbs clock skew between the phone and the server (RFC 6238 section 5.2). */
export const TOTP_DRIFT_STEPS = 1;
/** 160 bits, the HMAC-SHA-1 output size recommended by RFC 4226 section 4 (R6). */
export const TOTP_SECRET_BYTES = 20;

/** RFC 6238 section 4.2: T = floor((unix time - T0) / X), with T0 = 0 and X = 30 s. */
export function timeStepAt(epochMilliseconds: number): number {
  return Math.floor(epochMilliseconds / 1000 / TOTP_PERIOD_SECONDS);
}

export function isWithinDrift(timeStep: number, epochMilliseconds: number): boolean {
  return Math.abs(timeStep - timeStepAt(epochMilliseconds)) <= TOTP_DRIFT_STEPS;
}
