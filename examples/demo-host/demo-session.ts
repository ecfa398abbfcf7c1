import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The host's own session, as any web app has one: a signed cookie (HMAC-SHA256) naming the user,
 * whether the sign-in is complete or waits for the second factor, and the CSRF token of its forms.
 * Nothing of the two-factor service lives here: the service keeps its own session for its pages.
 */
export interface DemoSession {
  readonly userId: string;
  readonly stage: 'signed-in' | 'awaiting-second-factor';
  readonly csrf: string;
  readonly issuedAt: number;
}

export const SESSION_COOKIE = 'demo_session';
const IDLE_LIMIT_MS = 8 * 60 * 60 * 1000;

export class SessionSigner {
  constructor(private readonly key: Buffer) {}

  seal(session: DemoSession): string {
    const payload = Buffer.from(JSON.stringify(session)).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  open(cookie: string | undefined, now = Date.now()): DemoSession | null {
    if (!cookie) return null;
    const [payload, mac] = cookie.split('.');
    if (!payload || !mac) return null;
    const expected = Buffer.from(this.mac(payload));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as DemoSession;
      return now - session.issuedAt > IDLE_LIMIT_MS ? null : session;
    } catch {
      return null;
    }
  }

  private mac(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest('base64url');
  }
}

export function newSession(userId: string, stage: DemoSession['stage']): DemoSession {
  return { userId, stage, csrf: randomBytes(18).toString('base64url'), issuedAt: Date.now() };
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function sessionCookie(value: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0${secure ? '; Secure' : ''}`;
}
