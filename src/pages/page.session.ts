import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { PagesKeys } from '../ports/pages-keys.port.js';
import type { StaffRole } from '../kernel/principal.js';
import type { PagePurpose } from './pages.strings.js';

/** DESIGN §8: 30 minutes without a request ends the session. */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
/** However active, a session ends after this: a stolen cookie cannot be kept alive forever. */
export const SESSION_ABSOLUTE_MS = 8 * 60 * 60 * 1000;

/**
 * What the pages remember between requests, sealed into the cookie (AES-256-GCM, key derived from
 * the master key): nothing is stored server-side, and the browser can neither read nor alter it.
 */
export interface PageSession {
  readonly v: 1;
  /** Random per hand-off: a new hand-off is a new session (rotation). */
  readonly sid: string;
  readonly sub: string;
  readonly roles: readonly StaffRole[];
  readonly purpose: PagePurpose;
  readonly returnTo: string;
  readonly signOutUrl: string | null;
  readonly orgId: string | null;
  /** The CSRF token of every form of this session (synchroniser token, bound by the seal). */
  readonly csrf: string;
  readonly startedAt: number;
  readonly seenAt: number;
}

export interface CookieNaming {
  readonly name: string;
  readonly secure: boolean;
}

/** `__Host-` (Secure, Path=/, no Domain) when the service is served over HTTPS. */
export function cookieNaming(appBaseUrl: string): CookieNaming {
  const secure = new URL(appBaseUrl).protocol === 'https:';
  return { name: secure ? '__Host-tfa_pages' : 'tfa_pages', secure };
}

export function newSession(fields: Omit<PageSession, 'v' | 'sid' | 'csrf' | 'startedAt' | 'seenAt'>, now: Date): PageSession {
  return { v: 1, sid: randomBytes(16).toString('base64url'), csrf: randomBytes(32).toString('base64url'), startedAt: now.getTime(), seenAt: now.getTime(), ...fields };
}

/** The session in the cookie when it opens and is still live; else null (expired, altered, absent). */
export function openSession(keys: PagesKeys, naming: CookieNaming, cookieHeader: string | undefined, now: Date): PageSession | null {
  const sealed = cookieValue(cookieHeader, naming.name);
  if (!sealed) return null;
  const plaintext = keys.open(naming.name, sealed);
  if (plaintext === null) return null;
  let session: PageSession;
  try {
    session = JSON.parse(plaintext) as PageSession;
  } catch {
    return null;
  }
  if (session.v !== 1) return null;
  const at = now.getTime();
  if (at - session.seenAt > SESSION_IDLE_MS || at - session.startedAt > SESSION_ABSOLUTE_MS || at < session.startedAt) return null;
  return session;
}

/** The Set-Cookie value that carries the session, its idle window starting now. */
export function sessionCookie(keys: PagesKeys, naming: CookieNaming, session: PageSession, now: Date): string {
  const touched: PageSession = { ...session, seenAt: now.getTime() };
  return cookieHeader(naming, keys.seal(naming.name, JSON.stringify(touched)), Math.floor(SESSION_IDLE_MS / 1000));
}

export function clearedCookie(naming: CookieNaming): string {
  return cookieHeader(naming, '', 0);
}

export function csrfMatches(session: PageSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(session.csrf);
  const given = Buffer.from(submitted);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function cookieHeader(naming: CookieNaming, value: string, maxAgeSeconds: number): string {
  return [`${naming.name}=${value}`, 'Path=/', `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(naming.secure ? ['Secure'] : [])].join('; ');
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header || header.length > 16_384) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}
