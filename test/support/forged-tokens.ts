import { SignJWT } from 'jose';
import { TEST_JWT_SECRET } from './http-harness.js';

/**
 * Tokens that must never authenticate. Each claims the platform role, so a 401 proves the token
 * itself was refused and not merely that its roles were too weak.
 */
export interface ForgedTokens {
  readonly badSignature: string;
  readonly algNone: string;
  readonly expired: string;
}

const CLAIMS = { roles: ['platform'] };
const SUBJECT = 'host-platform';

export async function forgedTokens(): Promise<ForgedTokens> {
  const now = Math.floor(Date.now() / 1000);
  const badSignature = await new SignJWT(CLAIMS)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(SUBJECT)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode('not-the-service-secret-not-the-service-secret'));
  const unsignedHeader = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
  const unsignedPayload = Buffer.from(JSON.stringify({ ...CLAIMS, sub: SUBJECT, iat: now, exp: now + 3600 })).toString('base64url');
  const expired = await new SignJWT(CLAIMS)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(SUBJECT)
    .setIssuedAt(now - 7200)
    .setExpirationTime(now - 3600)
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));
  return { badSignature, algNone: `${unsignedHeader}.${unsignedPayload}.`, expired };
}
