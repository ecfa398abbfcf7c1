import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import { TokenVerifier } from '../src/http/token-verifier.js';
import { hasRole } from '../src/kernel/principal.js';

/**
 * The enforcement check's baselines: bare Fastify on the same route, in two modes.
 * - `cached` (the baseline the ratio is taken to): the service's own verified-token cache (the
 *   TokenVerifier class, same bound and lifetime), the same authorization rule (platform or the
 *   user themself) and a Map lookup of a per-user decision, 404 for an unknown user. It is what
 *   the service's work would cost with nothing but Fastify around it.
 * - `uncached` (the earlier baseline, kept for comparison): verifies the HS256 JWT with jose on
 *   every request and answers a constant decision.
 */
const mode = process.env['BARE_MODE'] ?? 'cached';
const users = Number(process.env['BARE_USERS'] ?? 10_000);
const secret = new TextEncoder().encode(process.env['AUTH_JWT_SECRET'] ?? '');
const decision = (orgId: string): object => ({
  requirement: 'hard',
  action: 'redirect',
  redirectTo: 'http://localhost:3000/settings/two-factor',
  twoFactorEnabled: false,
  enforcedBy: [{ orgId, mode: 'hard', xeroConnected: false }],
  exemptUntil: null,
  deadline: null,
});
const app = Fastify({ logger: false });

if (mode === 'cached') {
  const verifier = new TokenVerifier({ key: { kind: 'secret', secret }, maxLifetimeMs: 24 * 3_600_000 });
  // The same users as the service's seed (bench-support seedUsers: organisations of 100).
  const decisions = new Map<string, object>();
  for (let i = 0; i < users; i++) decisions.set(`u${i}`, decision(`uorg${Math.floor(i / 100)}`));
  app.get<{ Params: { userId: string } }>('/v1/enforcement/:userId', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    let principal;
    try {
      principal = await verifier.verify(header.slice('Bearer '.length));
    } catch {
      return reply.status(401).send({ status: 401 });
    }
    const userId = request.params.userId;
    if (principal.id !== userId && !hasRole(principal, 'platform')) return reply.status(403).send({ status: 403 });
    const found = decisions.get(userId);
    if (found === undefined) return reply.status(404).send({ status: 404 });
    return found;
  });
} else {
  const constant = decision('o');
  app.get('/v1/enforcement/:userId', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    try {
      await jwtVerify(header.slice('Bearer '.length), secret, { algorithms: ['HS256'] });
    } catch {
      return reply.status(401).send({ status: 401 });
    }
    return constant;
  });
}
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
