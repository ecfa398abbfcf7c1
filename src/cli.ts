import 'reflect-metadata';
import { once } from 'node:events';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfig } from './config/config.js';
import { STAFF_ROLES, type StaffRole } from './kernel/principal.js';
import { isValidId } from './kernel/ids.js';
import { loadOrCreateSecretFile } from './infrastructure/crypto/master-key.js';
import { buildRuntime, JWT_SECRET_FILE } from './runtime/runtime.factory.js';
import type { Runtime } from './runtime/runtime.js';
import { projections } from './runtime/service.js';
import { exportHistory } from './audit/audit.export.js';
import type { EventFilter } from './audit/audit.history.js';
import { verifyStore } from './audit/integrity.scan.js';
import { ProjectionRebuild } from './projections/projection.rebuild.js';

const USAGE = `usage:
  npm run cli -- token --sub <id> [--role platform|support|auditor|operator ...] [--ttl 1h]
      mint a bearer token signed with the embedded profile's secret (or AUTH_JWT_SECRET);
      no --role: an end-user token for the user <id>
  npm run cli -- verify
      recompute the hash chain of every stream; NDJSON on stdout; exit code 1 if history was tampered with
  npm run cli -- export [--format jsonl|csv] [--from <ISO instant>] [--to <ISO instant>] [--type <Type,...>]
      stream the audit history (protected values redacted) to stdout
  npm run cli -- rebuild
      replay all history into fresh read models and swap them in; stop the projector role first
      (or use POST /v1/admin/projections/rebuild on the instance running it, which pauses it itself)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'token') return mintToken(rest);
  if (command === 'verify') return withRuntime(verify);
  if (command === 'export') return exportCommand(rest);
  if (command === 'rebuild') return withRuntime(rebuild);
  process.stderr.write(`${USAGE}\n`);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 64;
}

async function mintToken(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sub: { type: 'string' }, role: { type: 'string', multiple: true }, ttl: { type: 'string', default: '1h' } }, strict: true });
  const roles = values.role ?? [];
  const unknown = roles.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (!values.sub || !isValidId(values.sub) || unknown.length > 0 || !/^\d+[smhd]$/.test(values.ttl)) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const config = loadConfig();
  if (config.AUTH_JWKS_URL) {
    process.stderr.write('AUTH_JWKS_URL is set: tokens come from your identity provider, not from this CLI\n');
    return 78;
  }
  const secret = config.AUTH_JWT_SECRET ? new TextEncoder().encode(config.AUTH_JWT_SECRET) : loadOrCreateSecretFile(join(config.DATA_DIR, JWT_SECRET_FILE), 32);
  let jwt = new SignJWT({ roles: roles as StaffRole[] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(values.sub).setIssuedAt().setExpirationTime(values.ttl);
  if (config.AUTH_ISSUER) jwt = jwt.setIssuer(config.AUTH_ISSUER);
  if (config.AUTH_AUDIENCE) jwt = jwt.setAudience(config.AUTH_AUDIENCE);
  process.stdout.write(`${await jwt.sign(secret)}\n`);
  return 0;
}

/**
 * The configured profile's stores without the API, projector or scheduler: ROLES=api builds no
 * projection runner, and the runtime is never started, so no HTTP server or job runs. Logs go to
 * stderr so that stdout carries only the command's output.
 */
async function withRuntime(run: (runtime: Runtime) => Promise<number>): Promise<number> {
  const runtime = await buildRuntime(loadConfig({ ...process.env, ROLES: 'api' }), { projections, logDestination: process.stderr });
  try {
    return await run(runtime);
  } finally {
    await runtime.close();
  }
}

async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

async function verify(runtime: Runtime): Promise<number> {
  let ok = false;
  for await (const line of verifyStore(runtime.eventStore)) {
    if (line.type === 'progress') continue;
    await writeOut(`${JSON.stringify(line)}\n`);
    if (line.type === 'summary') ok = line.ok;
  }
  return ok ? 0 : 1;
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { format: { type: 'string', default: 'jsonl' }, from: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' } }, strict: true });
  const from = values.from === undefined ? undefined : Date.parse(values.from);
  const to = values.to === undefined ? undefined : Date.parse(values.to);
  const types = values.type?.split(',');
  const valid =
    (values.format === 'jsonl' || values.format === 'csv') &&
    [from, to].every((t) => t === undefined || Number.isFinite(t)) &&
    (types === undefined || types.every((t) => /^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(t)));
  if (!valid) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const filter: EventFilter = { ...(types ? { types } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  return withRuntime(async (runtime) => {
    for await (const chunk of exportHistory(runtime.eventStore, filter, values.format as 'jsonl' | 'csv')) await writeOut(chunk);
    return 0;
  });
}

async function rebuild(runtime: Runtime): Promise<number> {
  const result = await new ProjectionRebuild(runtime.eventStore, runtime.readStore, runtime.projections, runtime.logger, null).runToEnd();
  await writeOut(`${JSON.stringify(result)}\n`);
  return result.state === 'done' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
