import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createEnforcementClient, fastifyEnforcement, renderPrompt, TwoFactorAssertionError, type EnforcementDecision, type TokenSource } from '../../sdk/two-factor-sdk.js';
import { ApprovalBook } from './demo-approvals.js';
import { trusted } from './demo-html.js';
import { findDemoOrganisation, findDemoStaff, findDemoUser, type DemoUser } from './demo-directory.js';
import { approvalsBody, invoiceBody, layout, problemBody, settingsBody, signInBody } from './demo-pages.js';
import { clearedSessionCookie, newSession, readCookie, SESSION_COOKIE, SessionSigner, sessionCookie, type DemoSession } from './demo-session.js';

/**
 * The demo host: a small approvals app that knows nothing of TOTP. Everything two-factor goes
 * through the SDK: the per-request decision (plugin), the prompt in the layout, hand-offs to the
 * service's pages, and the sign-in assertion. It never imports the service's code.
 */
export interface DemoHostOptions {
  /** The two-factor service as the browser reaches it (its pages and prompt.js). */
  readonly serviceBaseUrl: string;
  /** The same service as this server reaches it (the enforcement API). */
  readonly apiBaseUrl: string;
  /** This host's own origin as the browser sees it, e.g. http://localhost:3001. */
  readonly publicOrigin: string;
  /** A platform bearer token for the enforcement API, or a function that returns a fresh one. */
  readonly platformToken: TokenSource;
  /** The key hand-off tokens are signed with (the service's AUTH_JWT_SECRET). */
  readonly handoffSecret: string;
  /** How the host checks the service's `tfa` assertion: the shared secret, or the service's JWKS. */
  readonly assertion: { readonly secret: string } | { readonly jwksUrl: string };
  readonly sessionKey: Buffer;
  readonly timeoutMs?: number;
}

// Read from the source tree also when running from dist/ (tsc copies no CSS).
const STYLESHEET = readFileSync(new URL('./public/demo.css', import.meta.url.replace('/dist/examples/', '/examples/')), 'utf8');
/** Never enforced besides what the SDK already skips (its pages, /sign-out, static assets): signing in, and the hand-off routes. */
const PUBLIC_PATHS = ['/sign-in', '/account/two-factor', '/staff'];

declare module 'fastify' {
  interface FastifyRequest {
    demoSession: DemoSession | null;
    /** Per response: lets the SDK prompt's fallback stylesheet pass the CSP. */
    cspNonce: string;
  }
}

export async function buildDemoHost(options: DemoHostOptions): Promise<FastifyInstance> {
  const secure = options.publicOrigin.startsWith('https:');
  const signer = new SessionSigner(options.sessionKey);
  const approvals = new ApprovalBook();
  const client = createEnforcementClient({
    baseUrl: options.apiBaseUrl,
    token: options.platformToken,
    timeoutMs: options.timeoutMs ?? 1500,
    pagesBaseUrl: options.serviceBaseUrl,
    handoff: { secret: options.handoffSecret },
    assertion: options.assertion,
    hostOrigin: options.publicOrigin,
  });

  const app = Fastify({ logger: false, trustProxy: false });
  app.decorateRequest('demoSession', null);
  app.decorateRequest('cspNonce', '');
  // Forms post urlencoded bodies; Fastify parses only JSON out of the box.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addHook('onRequest', async (request) => {
    request.demoSession = signer.open(readCookie(request.headers.cookie, SESSION_COOKIE));
    request.cspNonce = randomBytes(16).toString('base64');
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'same-origin');
    reply.header('content-security-policy', contentSecurityPolicy(options.serviceBaseUrl, request.cspNonce));
  });

  const signedInUser = (request: FastifyRequest): DemoUser | null => {
    const session = request.demoSession;
    return session?.stage === 'signed-in' ? (findDemoUser(session.userId) ?? null) : null;
  };

  // Registered after the session hook: both run on onRequest, in registration order.
  await app.register(fastifyEnforcement, {
    client,
    getUser: (request) => {
      const user = signedInUser(request);
      return user ? { userId: user.id, orgId: user.orgId } : null;
    },
    skip: PUBLIC_PATHS,
    signOutUrl: `${options.publicOrigin}/sign-out`,
  });

  const page = (request: FastifyRequest, reply: FastifyReply, input: { title: string; body: ReturnType<typeof signInBody>; current?: 'approvals' | 'settings'; status?: number }) => {
    const user = signedInUser(request);
    const setupUrl = `/account/two-factor/setup?returnTo=${encodeURIComponent(request.url)}`;
    const prompt = trusted(renderPrompt(request.twoFactor, { setupUrl, nonce: request.cspNonce, strings: { message: whoAsks(request.twoFactor) } }));
    return reply
      .code(input.status ?? 200)
      .type('text/html; charset=utf-8')
      .send(layout({ title: input.title, user, csrf: request.demoSession?.csrf ?? null, body: input.body, prompt, serviceBaseUrl: options.serviceBaseUrl, ...(input.current ? { current: input.current } : {}) }));
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, status: number, message: string, back = { href: '/sign-in', label: 'Back to sign-in' }) =>
    page(request, reply, { title: status === 403 ? 'Not allowed' : 'Something went wrong', body: problemBody(message, back), status });
  /** A form is ours when it carries the session's CSRF token and comes from our own origin. */
  const fromOurForm = (request: FastifyRequest): boolean => {
    const body = (request.body ?? {}) as Record<string, string>;
    return request.headers.origin === options.publicOrigin && !!request.demoSession && body['csrf'] === request.demoSession.csrf;
  };
  const requireUser = (request: FastifyRequest, reply: FastifyReply): DemoUser | null => {
    const user = signedInUser(request);
    if (!user) void reply.redirect('/sign-in', 303);
    return user;
  };

  app.get('/static/demo.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(STYLESHEET));
  app.get('/', async (request, reply) => reply.redirect(signedInUser(request) ? '/approvals' : '/sign-in', 303));

  app.get('/sign-in', async (request, reply) => page(request, reply, { title: 'Sign in', body: signInBody(null) }));
  app.post('/sign-in', async (request, reply) => {
    // Sign-in forms have no session yet: the Origin check keeps other sites from signing you in.
    if (request.headers.origin !== options.publicOrigin) return refuse(request, reply, 403, 'This sign-in did not come from this site.');
    const user = findDemoUser(String((request.body as Record<string, string> | undefined)?.['userId'] ?? ''));
    if (!user) return page(request, reply, { title: 'Sign in', body: signInBody('Pick one of the people below.'), status: 400 });
    let twoFactorEnabled: boolean;
    try {
      twoFactorEnabled = (await client.decide(user.id)).twoFactorEnabled;
    } catch {
      // Fail closed: without the service we cannot tell whether a second factor is due.
      return refuse(request, reply, 503, 'The two-factor service did not answer. Try again in a moment.');
    }
    if (!twoFactorEnabled) {
      reply.header('set-cookie', sessionCookie(signer.seal(newSession(user.id, 'signed-in')), secure));
      return reply.redirect('/approvals', 303);
    }
    reply.header('set-cookie', sessionCookie(signer.seal(newSession(user.id, 'awaiting-second-factor')), secure));
    const url = await client.handoffUrl({ userId: user.id, purpose: 'verify', returnTo: `${options.publicOrigin}/sign-in/two-factor`, signOutUrl: `${options.publicOrigin}/sign-out` });
    return reply.redirect(url, 303);
  });

  app.get('/sign-in/two-factor', async (request, reply) => {
    const session = request.demoSession;
    const tfa = (request.query as Record<string, string | undefined>)['tfa'];
    if (!session || session.stage !== 'awaiting-second-factor' || !tfa) return refuse(request, reply, 403, 'There is no sign-in waiting for a second factor. Sign in again.');
    let usedBackupCode: boolean;
    try {
      // Signature, audience (this host), issuer, age, the user, and once only: the SDK checks them all.
      usedBackupCode = (await client.verifyAssertion(tfa, { userId: session.userId })).amr.includes('backup_code');
    } catch (error) {
      if (!(error instanceof TwoFactorAssertionError)) throw error;
      return refuse(request, reply, 403, ASSERTION_REFUSALS[error.code] ?? 'The two-factor check could not be confirmed. Sign in again.');
    }
    reply.header('set-cookie', sessionCookie(signer.seal(newSession(session.userId, 'signed-in')), secure));
    // A spent backup code is worth a word: the person may have lost their phone.
    return reply.redirect(usedBackupCode ? '/approvals?signedInWith=backup-code' : '/approvals', 303);
  });

  // GET too: the service's pages link back here to sign out (a cross-site POST would not carry our cookie).
  const signOut = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'POST' && !fromOurForm(request)) return refuse(request, reply, 403, 'This sign-out did not come from this site.');
    reply.header('set-cookie', clearedSessionCookie(secure));
    return reply.redirect('/sign-in', 303);
  };
  app.get('/sign-out', signOut);
  app.post('/sign-out', signOut);

  app.get('/account/two-factor/:purpose', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    const purpose = (request.params as { purpose: string }).purpose;
    if (purpose !== 'setup' && purpose !== 'manage' && purpose !== 'console') return refuse(request, reply, 404, 'There is no such page.', { href: '/approvals', label: 'Back to approvals' });
    const wanted = (request.query as Record<string, string | undefined>)['returnTo'] ?? '/approvals';
    // Only our own paths: "//evil.example" would be another origin.
    const path = wanted.startsWith('/') && !wanted.startsWith('//') ? wanted : '/approvals';
    const url = await client.handoffUrl({ userId: user.id, orgId: user.orgId, purpose, returnTo: `${options.publicOrigin}${path}`, signOutUrl: `${options.publicOrigin}/sign-out` });
    return reply.redirect(url, 303);
  });

  // Back-office staff open the console with their roles in the hand-off. A real host signs its staff in first.
  app.post('/staff/console', async (request, reply) => {
    if (request.headers.origin !== options.publicOrigin) return refuse(request, reply, 403, 'This form did not come from this site.');
    const staff = findDemoStaff(String((request.body as Record<string, string> | undefined)?.['staffId'] ?? ''));
    if (!staff) return refuse(request, reply, 404, 'There is no such member of staff.');
    const url = await client.handoffUrl({ userId: staff.id, purpose: 'console', roles: staff.roles, returnTo: `${options.publicOrigin}/sign-in`, signOutUrl: `${options.publicOrigin}/sign-in` });
    return reply.redirect(url, 303);
  });

  app.get('/approvals', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    const approved = (request.query as Record<string, string | undefined>)['approved'];
    const query = request.query as Record<string, string | undefined>;
    const flash =
      approved && approvals.find(user.orgId, approved)?.approved
        ? `${approved} approved.`
        : query['signedInWith'] === 'backup-code'
          ? 'You signed in with a backup code. Each one works once: in Settings, manage two-factor authentication to see how many are left or create new ones.'
          : null;
    return page(request, reply, { title: 'Approvals', body: approvalsBody(approvals.list(user.orgId), request.demoSession!.csrf, flash), current: 'approvals' });
  });
  app.get('/approvals/:id', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    const invoice = approvals.find(user.orgId, (request.params as { id: string }).id);
    if (!invoice) return refuse(request, reply, 404, 'There is no such invoice.', { href: '/approvals', label: 'Back to approvals' });
    return page(request, reply, { title: `Invoice ${invoice.id}`, body: invoiceBody(invoice, request.demoSession!.csrf), current: 'approvals' });
  });
  app.post('/approvals/:id/approve', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    if (!fromOurForm(request)) return refuse(request, reply, 403, 'This form did not come from this site. Reload the page and try again.', { href: '/approvals', label: 'Back to approvals' });
    const id = (request.params as { id: string }).id;
    if (!approvals.approve(user.orgId, id)) return refuse(request, reply, 404, 'There is no such invoice.', { href: '/approvals', label: 'Back to approvals' });
    return reply.redirect(`/approvals?approved=${encodeURIComponent(id)}`, 303);
  });
  app.get('/settings', async (request, reply) => {
    const user = requireUser(request, reply);
    if (!user) return reply;
    const enabled = await client.decide(user.id).then(
      (decision) => decision.twoFactorEnabled,
      () => null,
    );
    return page(request, reply, { title: 'Settings', body: settingsBody(user, enabled), current: 'settings' });
  });
  return app;
}

/** The prompt names the organisations that ask, by the names people know them by (the service knows only ids). */
function whoAsks(decision: EnforcementDecision | null): string {
  const names = (decision?.enforcedBy ?? []).map((org) => findDemoOrganisation(org.orgId)?.name ?? org.orgId);
  if (names.length === 0) return 'Your organisation asks you to set up two-factor authentication.';
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`;
  return `${list} ${names.length === 1 ? 'asks' : 'ask'} you to set up two-factor authentication.`;
}

const ASSERTION_REFUSALS: Partial<Record<string, string>> = {
  replayed: 'This two-factor check was already used. Sign in again.',
  expired: 'This two-factor check has expired. Sign in again.',
  wrong_user: 'This two-factor check was for someone else. Sign in again.',
};

function contentSecurityPolicy(serviceBaseUrl: string, nonce: string): string {
  const service = new URL(serviceBaseUrl).origin;
  // form-action lists the service: Chrome applies it to the redirects that follow a form post.
  return [
    "default-src 'self'",
    `script-src 'self' ${service}`,
    `style-src 'self' ${service} 'nonce-${nonce}'`,
    `img-src 'self' ${service} data:`,
    `connect-src 'self' ${service}`,
    `form-action 'self' ${service}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}
