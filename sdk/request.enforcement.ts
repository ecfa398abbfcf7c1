import type { EnforcementClient } from './enforcement.client.js';
import type { EnforcementDecision } from './enforcement.decision.js';

/** Who the request is from, as the host's own sign-in knows it. */
export interface EnforcedUser {
  readonly userId: string;
  /** The organisation the user is working in, when the host has one (its mode then applies). */
  readonly orgId?: string;
}

/** A path prefix (`/assets` matches `/assets` and `/assets/…`), a pattern, or a test. */
export type PathMatcher = string | RegExp | ((path: string) => boolean);

export interface EnforcementOptions<Req> {
  /** Who is signed in, or `null` for an anonymous request (never redirected). */
  getUser(request: Req): EnforcedUser | null | undefined | Promise<EnforcedUser | null | undefined>;
  /** The host's sign-out routes, never redirected so a user can always leave. Default `/sign-out`, `/signout`, `/logout`. */
  readonly signOutPaths?: readonly string[];
  /** Where "Sign out" on the service pages goes (absolute URL); default the host origin plus the first of `signOutPaths` when those are given. */
  readonly signOutUrl?: string;
  /** The service pages' path when the host proxies them; never redirected. Default `/two-factor`. */
  readonly pagesPath?: string;
  /** More requests never to enforce (checked on the path, without the query). */
  readonly skip?: PathMatcher | readonly PathMatcher[];
  /**
   * Skip static assets on GET and HEAD (default `true`): `/assets`, `/static`, `/favicon.ico`, and
   * paths ending in `.css`, `.js`, `.mjs`, `.map`, images and fonts. Never applies to other
   * methods, so an action cannot dodge enforcement by ending its path in `.css`.
   */
  readonly skipStaticAssets?: boolean;
  /** Where a non-GET request sends the user back when its `Referer` is not this host. Default `/`. */
  readonly homePath?: string;
}

/** The subset of a request the enforcement needs, whichever framework it comes from. */
export interface RequestFacts {
  readonly method: string;
  /** The request target: path and query, as received. */
  readonly url: string;
  readonly referer?: string | undefined;
}

export type EnforcementOutcome =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'decided'; readonly decision: EnforcementDecision }
  | { readonly kind: 'redirect'; readonly decision: EnforcementDecision; readonly location: string };

const DEFAULT_SIGN_OUT_PATHS = ['/sign-out', '/signout', '/logout'];
const STATIC_PREFIXES = ['/assets', '/static', '/favicon.ico'];
const STATIC_EXTENSION = /\.(css|js|mjs|map|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf)$/i;

/** The per-request decision shared by the Express middleware, the Fastify plugin and the NestJS guard. */
export async function enforceRequest<Req>(client: EnforcementClient, options: EnforcementOptions<Req>, request: Req, facts: RequestFacts): Promise<EnforcementOutcome> {
  const wanted = urlOnHost(client.hostOrigin, facts.url);
  if (isNeverEnforced(options, facts.method, wanted.pathname)) return { kind: 'skipped' };
  const user = await options.getUser(request);
  if (!user) return { kind: 'skipped' };
  const decision = await client.decide(user.userId, user.orgId);
  if (decision.action !== 'redirect') return { kind: 'decided', decision };
  const returnTo = isReadOnly(facts.method) ? wanted.href : pageThatAsked(client.hostOrigin, facts.referer, options.homePath ?? '/');
  const signOutUrl = options.signOutUrl ?? (options.signOutPaths?.[0] !== undefined ? urlOnHost(client.hostOrigin, options.signOutPaths[0]).href : undefined);
  const location = await client.handoffUrl({
    userId: user.userId,
    purpose: 'setup',
    returnTo,
    ...(user.orgId !== undefined ? { orgId: user.orgId } : {}),
    ...(signOutUrl !== undefined ? { signOutUrl } : {}),
  });
  return { kind: 'redirect', decision, location };
}

function isNeverEnforced<Req>(options: EnforcementOptions<Req>, method: string, path: string): boolean {
  if (matches(options.pagesPath ?? '/two-factor', path)) return true;
  if ((options.signOutPaths ?? DEFAULT_SIGN_OUT_PATHS).some((signOut) => matches(signOut, path))) return true;
  const extra = options.skip === undefined ? [] : Array.isArray(options.skip) ? options.skip : [options.skip as PathMatcher];
  if (extra.some((matcher) => matches(matcher, path))) return true;
  return (options.skipStaticAssets ?? true) && isReadOnly(method) && (STATIC_PREFIXES.some((prefix) => matches(prefix, path)) || STATIC_EXTENSION.test(path));
}

function matches(matcher: PathMatcher, path: string): boolean {
  if (typeof matcher === 'function') return matcher(path);
  if (matcher instanceof RegExp) return matcher.test(path);
  const prefix = matcher.replace(/\/+$/, '');
  return path === prefix || path.startsWith(`${prefix}/`) || prefix === '';
}

function isReadOnly(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * The request target on the host's configured origin. Never from the Host header (which the
 * client chooses), and a target such as `//evil.example/x` stays a path on the host.
 */
function urlOnHost(hostOrigin: string, target: string): URL {
  return new URL(`${hostOrigin}${target.startsWith('/') ? '' : '/'}${target}`);
}

/** After an action, the user goes back to the page that made it, when that page is on this host. */
function pageThatAsked(hostOrigin: string, referer: string | undefined, homePath: string): string {
  if (referer) {
    try {
      const url = new URL(referer);
      if (url.origin === hostOrigin) return url.href;
    } catch {
      // An unreadable Referer is no page to go back to.
    }
  }
  return urlOnHost(hostOrigin, homePath).href;
}

/** Reads one header whichever way a framework spells its header bag. */
export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>> | undefined, name: string): string | undefined {
  const value = headers?.[name];
  return Array.isArray(value) ? value[0] : value;
}
