/**
 * The keys of the pages (DESIGN §8), behind one port so that the web edge never holds key material:
 * the session cookie is sealed and opened here, and the `tfa` assertion a host receives is signed
 * here (HS256 with the API tokens' shared secret when there is one, else ES256 with the service's
 * own key, published as a JWKS).
 */
export interface AssertionClaims {
  readonly [claim: string]: unknown;
}

export interface PagesKeys {
  /** AES-256-GCM under a key derived from the master key; `context` (the cookie name) is the AAD. */
  seal(context: string, plaintext: string): string;
  /** The plaintext, or null when the value was altered, truncated or sealed under another key. */
  open(context: string, sealed: string): string | null;
  /** A compact JWS of the claims; the algorithm follows how API tokens are verified. */
  signAssertion(claims: AssertionClaims): Promise<string>;
  /** The public keys that verify assertions; none when they are signed with the shared secret. */
  publicJwks(): { readonly keys: readonly Record<string, unknown>[] };
  /** `HS256` or `ES256`. */
  readonly assertionAlgorithm: 'HS256' | 'ES256';
}
