import type { PagesKeys } from '../ports/pages-keys.port.js';
import { cookieValue, type CookieNaming } from './page.session.js';

/**
 * The trusted-device cookie of the pages: the device token a verify answered, sealed (AES-256-GCM,
 * the pages' key, the cookie name as AAD) together with the user it belongs to, so that a browser
 * shared by two people never offers one person's device to the other. Scoped to the pages' path
 * and kept until the device's expiry; HttpOnly, SameSite=Lax, Secure when served over HTTPS.
 */
export interface DeviceCookie {
  readonly v: 1;
  readonly sub: string;
  readonly deviceId: string;
  readonly token: string;
  readonly expiresAt: string;
}

const PATH = '/two-factor';

/** `__Secure-` over HTTPS (`__Host-` would need Path=/, and this cookie is for the pages only). */
export function deviceCookieName(naming: CookieNaming): string {
  return naming.secure ? '__Secure-tfa_device' : 'tfa_device';
}

export function deviceCookie(keys: PagesKeys, naming: CookieNaming, value: Omit<DeviceCookie, 'v'>, now: Date): string {
  const name = deviceCookieName(naming);
  const maxAge = Math.max(0, Math.floor((Date.parse(value.expiresAt) - now.getTime()) / 1000));
  return header(naming, keys.seal(name, JSON.stringify({ v: 1, ...value } satisfies DeviceCookie)), maxAge);
}

/** This browser's device for `sub`, or null: none, altered, expired or another user's. */
export function openDeviceCookie(keys: PagesKeys, naming: CookieNaming, cookieHeader: string | undefined, sub: string, now: Date): DeviceCookie | null {
  const name = deviceCookieName(naming);
  const sealed = cookieValue(cookieHeader, name);
  const plaintext = sealed ? keys.open(name, sealed) : null;
  if (plaintext === null) return null;
  try {
    const value = JSON.parse(plaintext) as DeviceCookie;
    return value.v === 1 && value.sub === sub && Date.parse(value.expiresAt) > now.getTime() ? value : null;
  } catch {
    return null;
  }
}

export function clearedDeviceCookie(naming: CookieNaming): string {
  return header(naming, '', 0);
}

function header(naming: CookieNaming, value: string, maxAgeSeconds: number): string {
  return [`${deviceCookieName(naming)}=${value}`, `Path=${PATH}`, `Max-Age=${maxAgeSeconds}`, 'HttpOnly', 'SameSite=Lax', ...(naming.secure ? ['Secure'] : [])].join('; ');
}

/**
 * A label the user will recognise on the manage page ("Firefox on Linux"), from the browser's own
 * User-Agent: the pages ask for no typing, and a browser and system name is all a list needs.
 */
export function browserLabel(userAgent: string | undefined): string | null {
  if (!userAgent) return null;
  const browser = BROWSERS.find(([pattern]) => pattern.test(userAgent))?.[1];
  const system = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1];
  if (!browser && !system) return null;
  return [browser ?? 'A browser', system ? `on ${system}` : null].filter(Boolean).join(' ');
}

// Order matters: Edge and Opera also say Chrome, Chrome also says Safari.
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Edg\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/Firefox\//, 'Firefox'],
  [/Chrom(e|ium)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone|iPad|iPod/, 'iOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/CrOS/, 'ChromeOS'],
  [/Linux/, 'Linux'],
];
