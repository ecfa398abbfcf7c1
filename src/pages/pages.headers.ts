import { randomBytes } from 'node:crypto';

/** A fresh nonce per answer: a script without it never runs, whatever gets injected. */
export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

export interface CspSources {
  /** Origins the forms may post to or be redirected to after a post (Chromium checks redirects). */
  readonly formTargets: readonly string[];
  /** The logo's origin when LOGO_URL is absolute. */
  readonly imageOrigins: readonly string[];
}

export function contentSecurityPolicy(nonce: string, sources: CspSources): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    ["img-src 'self' data:", ...sources.imageOrigins].join(' '),
    ["form-action 'self'", ...sources.formTargets].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Headers of every HTML page. Pages carry one-time tokens in URLs and forms: never cached, never referred. */
export function pageHeaders(csp: string): Record<string, string> {
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'x-frame-options': 'DENY',
  };
}
