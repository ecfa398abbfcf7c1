import Fastify from 'fastify';
import { jwtVerify } from 'jose';

/**
 * The enforcement check's baseline: a bare Fastify server that verifies the same HS256 JWT and
 * returns a constant decision. What it cannot do faster than us is the floor of the stack.
 */
const secret = new TextEncoder().encode(process.env['AUTH_JWT_SECRET'] ?? '');
const decision = { requirement: 'hard', action: 'redirect', redirectTo: 'http://localhost:3000/settings/two-factor', twoFactorEnabled: false, enforcedBy: [{ orgId: 'o', mode: 'hard', xeroConnected: false }] };
const app = Fastify({ logger: false });
app.get('/v1/enforcement/:userId', async (request, reply) => {
  const header = request.headers.authorization ?? '';
  try {
    await jwtVerify(header.slice('Bearer '.length), secret, { algorithms: ['HS256'] });
  } catch {
    return reply.status(401).send({ status: 401 });
  }
  return decision;
});
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
