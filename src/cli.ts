import 'reflect-metadata';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfig, type Config } from './config/config.js';
import { STAFF_ROLES, type StaffRole } from './kernel/principal.js';
import { isValidId } from './kernel/ids.js';
import { tryReadSecretFile } from './infrastructure/crypto/master-key.js';
import { DATABASE_FILE, JWT_SECRET_FILE } from './runtime/data-dir.files.js';
import type { Runtime } from './runtime/runtime.js';
import type { EventFilter } from './audit/audit.history.js';

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

/** sysexits.h: what a shell script can tell apart. */
const EX_USAGE = 64;
const EX_NOINPUT = 66;
const EX_CONFIG = 78;

/** A refusal the CLI explains in one line, then exits with `exitCode`; never a stack trace. */
class CliRefusal extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function usageError(problem: string): CliRefusal {
  return new CliRefusal(`${problem}\nrun \`npm run cli -- help\` for the usage`, EX_USAGE);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'token') return mintToken(rest);
  if (command === 'verify') return noArguments('verify', rest, () => withRuntime(verify));
  if (command === 'export') return exportCommand(rest);
  if (command === 'rebuild') return noArguments('rebuild', rest, () => withRuntime(rebuild));
  if (command === undefined || command === 'help' || command === '--help') {
    process.stderr.write(`${USAGE}\n`);
    return 0;
  }
  throw usageError(`unknown command "${command.slice(0, 40)}": expected token, verify, export or rebuild`);
}

/** parseArgs names the offending option ("Unknown option '--x'"); that is what the user needs to read. */
function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

function noArguments(command: string, args: string[], run: () => Promise<number>): Promise<number> {
  if (args.length > 0) throw usageError(`${command} takes no options, got "${args[0]!.slice(0, 40)}"`);
  return run();
}

async function mintToken(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { sub: { type: 'string' }, role: { type: 'string', multiple: true }, ttl: { type: 'string', default: '1h' } });
  const roles = values.role ?? [];
  const unknown = roles.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (!values.sub) throw usageError('token needs --sub <id>');
  if (!isValidId(values.sub)) throw usageError('--sub must be an id: a letter or digit, then up to 127 letters, digits, "_", ".", ":" or "-"');
  if (unknown.length > 0) throw usageError(`unknown --role ${unknown.map((r) => `"${r.slice(0, 40)}"`).join(', ')}: expected ${STAFF_ROLES.join(', ')}`);
  if (!/^\d+[smhd]$/.test(values.ttl)) throw usageError(`--ttl "${values.ttl.slice(0, 40)}" is not a duration such as 30m, 1h or 7d`);
  const config = loadConfig();
  if (config.AUTH_JWKS_URL) throw new CliRefusal('AUTH_JWKS_URL is set: tokens come from your identity provider, not from this CLI', EX_CONFIG);
  // The service refuses a token that lives longer than this; minting one would only fail later.
  if (ttlMs(values.ttl) > config.AUTH_MAX_TOKEN_LIFETIME) {
    throw usageError(`--ttl ${values.ttl} is longer than AUTH_MAX_TOKEN_LIFETIME (${config.AUTH_MAX_TOKEN_LIFETIME / 3_600_000} hours)`);
  }
  const secret = signingSecret(config);
  let jwt = new SignJWT({ roles: roles as StaffRole[] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(values.sub).setIssuedAt().setExpirationTime(values.ttl);
  if (config.AUTH_ISSUER) jwt = jwt.setIssuer(config.AUTH_ISSUER);
  if (config.AUTH_AUDIENCE) jwt = jwt.setAudience(config.AUTH_AUDIENCE);
  process.stdout.write(`${await jwt.sign(secret)}\n`);
  return 0;
}

function ttlMs(ttl: string): number {
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ttl.slice(-1) as 's' | 'm' | 'h' | 'd'];
  return Number(ttl.slice(0, -1)) * unit;
}

/**
 * The service's own secret, never a new one: a secret made up here would sign tokens that no
 * running service accepts, and the service would adopt it on its next start unannounced.
 */
function signingSecret(config: Config): Uint8Array {
  if (config.AUTH_JWT_SECRET) return new TextEncoder().encode(config.AUTH_JWT_SECRET);
  const path = join(config.DATA_DIR, JWT_SECRET_FILE);
  const stored = tryReadSecretFile(path, 32);
  if (stored) return stored;
  throw new CliRefusal(`no signing secret: ${resolve(path)} does not exist. Start the service once (npm start) with this DATA_DIR, which creates it, or set AUTH_JWT_SECRET`, EX_CONFIG);
}

/**
 * Opening the SQLite file would create an empty store, and verifying an empty store "passes":
 * an auditor pointed at the wrong DATA_DIR must get a refusal, not an ok.
 */
function requireExistingStore(config: Config): void {
  if (config.PROFILE !== 'embedded') return;
  const file = join(config.DATA_DIR, DATABASE_FILE);
  if (!existsSync(file)) throw new CliRefusal(`no event store at ${resolve(file)}: check DATA_DIR (it must be the service's data directory)`, EX_NOINPUT);
}

/**
 * The configured profile's stores without the API, projector or scheduler: ROLES=api builds no
 * projection runner, and the runtime is never started, so no HTTP server or job runs. Logs go to
 * stderr so that stdout carries only the command's output.
 */
async function withRuntime(run: (runtime: Runtime) => Promise<number>): Promise<number> {
  const config = loadConfig({ ...process.env, ROLES: 'api' });
  requireExistingStore(config);
  // Loaded only now: the whole runtime takes seconds to load, which a usage error or a token need not wait for.
  const [{ buildRuntime }, { projections }] = await Promise.all([import('./runtime/runtime.factory.js'), import('./runtime/service.js')]);
  const runtime = await buildRuntime(config, { projections, logDestination: process.stderr });
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
  const { verifyStore } = await import('./audit/integrity.scan.js');
  for await (const line of verifyStore(runtime.eventStore)) {
    if (line.type === 'progress') continue;
    await writeOut(`${JSON.stringify(line)}\n`);
    if (line.type === 'summary') ok = line.ok;
  }
  return ok ? 0 : 1;
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { format: { type: 'string', default: 'jsonl' }, from: { type: 'string' }, to: { type: 'string' }, type: { type: 'string' } });
  if (values.format !== 'jsonl' && values.format !== 'csv') throw usageError(`--format "${values.format.slice(0, 40)}": expected jsonl or csv`);
  const from = instantOption('--from', values.from);
  const to = instantOption('--to', values.to);
  const types = values.type?.split(',');
  const badType = types?.find((t) => !/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(t));
  if (badType !== undefined) throw usageError(`--type "${badType.slice(0, 40)}" is not an event type name`);
  const filter: EventFilter = { ...(types ? { types } : {}), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
  return withRuntime(async (runtime) => {
    const { exportHistory } = await import('./audit/audit.export.js');
    for await (const chunk of exportHistory(runtime.eventStore, filter, values.format as 'jsonl' | 'csv')) await writeOut(chunk);
    return 0;
  });
}

function instantOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const instant = Date.parse(value);
  if (!Number.isFinite(instant)) throw usageError(`${name} "${value.slice(0, 40)}" is not an ISO instant such as 2026-01-31T00:00:00Z`);
  return instant;
}

async function rebuild(runtime: Runtime): Promise<number> {
  const { ProjectionRebuild } = await import('./projections/projection.rebuild.js');
  const result = await new ProjectionRebuild(runtime.eventStore, runtime.readStore, runtime.projections, runtime.logger, null).runToEnd();
  await writeOut(`${JSON.stringify(result)}\n`);
  return result.state === 'done' ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof CliRefusal ? error.exitCode : 1);
  },
);
