import { createCipheriv, createDecipheriv, createECDH, createHash, createPrivateKey, createPublicKey, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK } from 'jose';
import type { AssertionClaims, PagesKeys } from '../ports/pages-keys.port.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEALED_VERSION = 'v1';

/**
 * Session sealing and assertion signing for the pages. Every key is derived from the master key
 * with HKDF-SHA256 under its own label, so each instance of the service derives the same keys
 * (a cookie sealed by one opens on another; the JWKS is the same everywhere) and none of them
 * can stand in for another key or for the master key.
 */
export class DerivedPagesKeys implements PagesKeys {
  readonly assertionAlgorithm: 'HS256' | 'ES256';
  private readonly sessionKey: Buffer;
  private readonly es256: { readonly privateKey: KeyObject; readonly publicJwk: JWK; readonly kid: string } | null;

  /** `sharedSecret`: the HS256 secret API tokens are verified with, or null when they come with a JWKS. */
  constructor(masterKey: Buffer, private readonly sharedSecret: Uint8Array | null) {
    this.sessionKey = derive(masterKey, 'session', 32);
    this.assertionAlgorithm = sharedSecret ? 'HS256' : 'ES256';
    this.es256 = sharedSecret ? null : es256Key(derive(masterKey, 'assertion-es256', 32));
  }

  seal(context: string, plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sessionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [SEALED_VERSION, iv, ciphertext, cipher.getAuthTag()].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
  }

  open(context: string, sealed: string): string | null {
    const [version, iv, ciphertext, tag, ...rest] = sealed.split('.');
    if (version !== SEALED_VERSION || !iv || !ciphertext || !tag || rest.length > 0) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sessionKey, Buffer.from(iv, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  async signAssertion(claims: AssertionClaims): Promise<string> {
    const jwt = new SignJWT({ ...claims });
    if (this.sharedSecret) return jwt.setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.sharedSecret);
    const key = this.es256!;
    return jwt.setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: key.kid }).sign(key.privateKey);
  }

  publicJwks(): { readonly keys: readonly Record<string, unknown>[] } {
    if (!this.es256) return { keys: [] };
    return { keys: [{ ...this.es256.publicJwk, kid: this.es256.kid, alg: 'ES256', use: 'sig' }] };
  }
}

function derive(masterKey: Buffer, label: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), `tfe/pages/${label}/v1`, bytes));
}

/**
 * A P-256 key pair from 32 derived bytes: the bytes are the private scalar (valid unless they are
 * zero or at least the group order, a chance of about 2^-32 that setPrivateKey would refuse), and
 * the public point is computed from it.
 */
function es256Key(scalar: Buffer): { privateKey: KeyObject; publicJwk: JWK; kid: string } {
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar);
  const point = ecdh.getPublicKey();
  const publicJwk: JWK = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') };
  const privateKey = createPrivateKey({ key: { ...publicJwk, d: scalar.toString('base64url') }, format: 'jwk' });
  // Checks the pair once: a public key Node cannot import would only show up at a host.
  createPublicKey({ key: publicJwk as never, format: 'jwk' });
  // RFC 7638 thumbprint: the required members in lexicographic order, no spaces.
  const kid = createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x: publicJwk.x, y: publicJwk.y })).digest('base64url');
  return { privateKey, publicJwk, kid };
}
