import { randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import { TEST_JWT_SECRET, type Harness } from './http-harness.js';
import { assertConforms, OpenApiValidator } from './openapi-validator.js';

/** The demo host's origin in the pages specs: the only origin a hand-off may return to. */
export const HOST_ORIGIN = 'http://host.test:3001';
export const PAGES_ENV = { PAGES_RETURN_ORIGINS: HOST_ORIGIN } as const;

export interface PageResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly location: string | null;
}

export interface HandoffClaims {
  readonly sub: string;
  readonly purpose?: string;
  readonly returnTo?: string;
  readonly aud?: string;
  readonly jti?: string;
  readonly lifetimeSeconds?: number;
  readonly issuedAt?: number;
  readonly [claim: string]: unknown;
}

/** Signs a hand-off as a host would (HS256 with the shared secret unless another key is given). */
export function handoffToken(h: Harness, claims: HandoffClaims, key: Uint8Array | KeyObject = new TextEncoder().encode(TEST_JWT_SECRET), alg = 'HS256'): Promise<string> {
  const { sub, purpose = 'setup', returnTo = `${HOST_ORIGIN}/after`, aud = 'two-factor-pages', jti = randomUUID(), lifetimeSeconds = 300, issuedAt, ...rest } = claims;
  const iat = issuedAt ?? Math.floor(h.clock.now().getTime() / 1000);
  return new SignJWT({ purpose, returnTo, ...rest }).setProtectedHeader({ alg }).setSubject(sub).setAudience(aud).setJti(jti).setIssuedAt(iat).setExpirationTime(iat + lifetimeSeconds).sign(key);
}

/**
 * A browser in miniature: a cookie jar of its own, redirects not followed (the specs look at each
 * 303), and the Origin header a browser sends with a form post. Every answer is checked against
 * the OpenAPI document like the JSON specs' answers.
 */
export class PageClient {
  private readonly cookies = new Map<string, string>();
  private validator: Promise<OpenApiValidator> | null = null;

  constructor(private readonly h: Harness) {}

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  clearCookies(): void {
    this.cookies.clear();
  }

  get(path: string): Promise<PageResponse> {
    return this.request('GET', path);
  }

  /** A form post; `origin` null leaves the Origin header out, a string replaces the page's own. */
  post(path: string, form: Record<string, string>, options: { origin?: string | null; headers?: Record<string, string> } = {}): Promise<PageResponse> {
    const origin = options.origin === undefined ? this.h.url : options.origin;
    return this.request('POST', path, new URLSearchParams(form).toString(), origin, options.headers);
  }

  /** A hand-off followed to its page, as the browser would. */
  async handoff(claims: HandoffClaims): Promise<PageResponse> {
    const landing = await this.get(`/two-factor/handoff?token=${await handoffToken(this.h, claims)}`);
    if (landing.status !== 303 || !landing.location) throw new Error(`hand-off answered ${landing.status}: ${landing.text.slice(0, 300)}`);
    return this.get(landing.location);
  }

  private async request(method: string, path: string, body?: string, origin?: string | null, extra: Record<string, string> = {}): Promise<PageResponse> {
    const headers: Record<string, string> = { ...extra };
    if (this.cookies.size > 0) headers['cookie'] = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (origin) headers['origin'] = origin;
    const response = await fetch(`${this.h.url}${path}`, { method, headers, body, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) this.remember(line);
    const text = await response.text();
    this.validator ??= fetch(`${this.h.url}/docs/openapi.json`).then(async (r) => new OpenApiValidator((await r.json()) as Record<string, unknown>));
    let parsed: unknown = text === '' ? null : text;
    if ((response.headers.get('content-type') ?? '').includes('json')) parsed = JSON.parse(text);
    assertConforms(await this.validator, { method, path, status: response.status, headers: response.headers, body: parsed });
    return { status: response.status, headers: response.headers, text, location: response.headers.get('location') };
  }

  private remember(line: string): void {
    const [pair, ...attributes] = line.split(';').map((part) => part.trim());
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq);
    const value = pair!.slice(eq + 1);
    const expired = attributes.some((a) => /^max-age=0$/i.test(a)) || value === '';
    if (expired) this.cookies.delete(name);
    else this.cookies.set(name, value);
  }
}

/** The value of the first `name="…"`-style attribute on the page, unescaped. */
export function attribute(page: string, name: string): string | null {
  const match = new RegExp(`${name}="([^"]*)"`).exec(page);
  return match ? unescapeHtml(match[1]!) : null;
}

export function attributes(page: string, name: string): string[] {
  return [...page.matchAll(new RegExp(`${name}="([^"]*)"`, 'g'))].map((m) => unescapeHtml(m[1]!));
}

export function csrfOf(page: string): string {
  const match = /name="csrf" value="([^"]*)"/.exec(page);
  if (!match) throw new Error('no CSRF field on the page');
  return unescapeHtml(match[1]!);
}

function unescapeHtml(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&');
}
