import Fastify from 'fastify';
import { join } from 'node:path';
import { toNewEvents } from '../src/application/command-handling.js';
import { TokenVerifier } from '../src/http/token-verifier.js';
import { SqliteEventStore } from '../src/infrastructure/event-store/sqlite.event-store.js';
import { openSqlite } from '../src/infrastructure/sqlite/sqlite.database.js';
import { newId } from '../src/kernel/ids.js';
import { actorOf, hasRole } from '../src/kernel/principal.js';
import { organisationStream } from '../src/organisations/organisation.decider.js';
import { DATABASE_FILE } from '../src/runtime/data-dir.files.js';

/**
 * The command load's baseline: the membership command on bare Fastify with the parts of the
 * service's work that fix its floor, and nothing else. It verifies the token with the service's
 * own cache (TokenVerifier), lets only the platform in, checks the body's role and the user (404
 * for a user not seeded), and appends the same `MemberJoinedOrg` event with the same metadata
 * through the service's own SQLite event store on the same data directory: the same group commit
 * on a writer thread, the same hash chain, the same fsync (`synchronous=FULL`) before the answer.
 * The projector of the measured layout runs beside it and projects these events, so the disk and
 * the cores are shared as they are for the service.
 *
 * What it leaves out is what the ratio is about: Nest and its pipeline, the CQRS bus, the
 * organisation's state and its decider (this baseline knows no members, so it never refuses a join
 * nor answers one as already done), the per-stream queue and the read of the joining user's stream.
 * Its appends expect `any` revision, so the store may chain two of one organisation in one batch,
 * where the service decides them one after the other.
 */
const dataDir = process.env['DATA_DIR'] ?? '';
const users = Number(process.env['BARE_USERS'] ?? 10_000);
const secret = new TextEncoder().encode(process.env['AUTH_JWT_SECRET'] ?? '');
const verifier = new TokenVerifier({ key: { kind: 'secret', secret }, maxLifetimeMs: 24 * 3_600_000 });
const db = openSqlite(join(dataDir, DATABASE_FILE));
const store = new SqliteEventStore(db);
const app = Fastify({ logger: false });

app.put<{ Params: { orgId: string; userId: string }; Body: { role?: unknown } }>('/v1/organisations/:orgId/members/:userId', async (request, reply) => {
  let principal;
  try {
    principal = await verifier.verify((request.headers.authorization ?? '').slice('Bearer '.length));
  } catch {
    return reply.status(401).send({ status: 401 });
  }
  if (!hasRole(principal, 'platform')) return reply.status(403).send({ status: 403 });
  const role = request.body?.role;
  if (role !== 'member' && role !== 'admin') return reply.status(400).send({ status: 400 });
  const { orgId, userId } = request.params;
  if (!/^u\d+$/.test(userId) || Number(userId.slice(1)) >= users) return reply.status(404).send({ status: 404 });
  const now = new Date();
  const event = { type: 'MemberJoinedOrg', data: { userId, role, joinedAt: now.toISOString(), graceFrom: now.toISOString() } };
  const [appended] = toNewEvents([event], { commandId: newId(), correlationId: newId(), actor: actorOf(principal), now });
  const result = await store.append(organisationStream(orgId), [appended!], 'any');
  return { revision: result.nextRevision, position: result.position };
});
app.get('/health/ready', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env['PORT']) });
process.on('SIGTERM', () => {
  void app
    .close()
    .then(() => store.close())
    .then(() => {
      db.close();
      process.exit(0);
    });
});
