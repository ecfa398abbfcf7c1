import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { toNewEvents, type CommandContext } from '../src/application/command-handling.js';
import type { EventStore } from '../src/ports/event-store.port.js';
import { newId } from '../src/kernel/ids.js';

export const BENCH_SECRET = 'bench-secret-bench-secret-bench-secret-0123';
export const ROOT = new URL('../..', import.meta.url).pathname;

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function token(sub: string, roles: string[] = []): Promise<string> {
  return new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('2h').sign(new TextEncoder().encode(BENCH_SECRET));
}

const actor = { id: 'bench', roles: ['platform'] };
export function benchContext(): CommandContext {
  const commandId = newId();
  return { commandId, correlationId: commandId, actor, now: new Date() };
}

/** An opaque stand-in: seeding does not need readable emails, only the events' shape. */
export const SEALED = { keyId: 'bench', iv: 'AAAAAAAAAAAAAAAA', ciphertext: 'AA==', tag: 'AAAAAAAAAAAAAAAAAAAAAA==' };

/**
 * Seeds `users` users in organisations of `perOrg` members through the event store port (the same
 * envelopes the handlers write), with the given mode for every organisation.
 */
export async function seedUsers(store: EventStore, users: number, perOrg: number, mode: 'off' | 'soft' | 'hard', prefix = 'u'): Promise<void> {
  // Appends in flight together share a commit (group commit): one fsync per chunk, not per user.
  for (let from = 0; from < users; from += SEED_CHUNK) {
    const chunk = [];
    for (let i = from; i < Math.min(users, from + SEED_CHUNK); i++) {
      const userId = `${prefix}${i}`;
      chunk.push(store.append(`user-${userId}`, toNewEvents([{ type: 'UserRegistered', data: { userId, email: SEALED } }], benchContext()), 'no_stream'));
    }
    await Promise.all(chunk);
  }
  // Organisations too, as many at a time as hold about a chunk's members: with one member each,
  // appending them one after another spent a minute in 11,000 fsyncs.
  const orgs = Math.ceil(users / perOrg);
  const orgsPerChunk = Math.max(1, Math.floor(SEED_CHUNK / perOrg));
  for (let from = 0; from < orgs; from += orgsPerChunk) {
    const chunk = [];
    for (let org = from; org < Math.min(orgs, from + orgsPerChunk); org++) chunk.push(appendOrganisation(store, prefix, org, perOrg, users, mode));
    await Promise.all(chunk);
  }
}

function appendOrganisation(store: EventStore, prefix: string, org: number, perOrg: number, users: number, mode: 'off' | 'soft' | 'hard'): Promise<unknown> {
  const orgId = `${prefix}org${org}`;
  const members = [];
  for (let i = org * perOrg; i < Math.min(users, (org + 1) * perOrg); i++) members.push({ type: 'MemberJoinedOrg', data: { userId: `${prefix}${i}`, role: i === org * perOrg ? 'admin' : 'member' } });
  const events = [{ type: 'OrganisationRegistered', data: { orgId, name: `Org ${org}` } }, ...members];
  if (mode !== 'off') events.push({ type: 'EnforcementModeChanged', data: { from: 'off', to: mode, reason: 'bench' } } as never);
  return store.append(`organisation-${orgId}`, toNewEvents(events as never, benchContext()), 'no_stream');
}

const SEED_CHUNK = 500;

/** A port the OS says is free right now, so a run never collides with a leftover from another. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** BENCH_SERVICE_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the service under load. */
function serviceNodeArgs(): string[] {
  return [...productionNodeArgs(), ...(process.env['BENCH_SERVICE_NODE_ARGS'] ?? '').split(' ').filter(Boolean)];
}

/** The real service in its own process (so load generator and server do not share a core's time slices unfairly). */
export async function startServiceProcess(env: Record<string, string>, script = 'dist/src/main.js'): Promise<ServiceProcess> {
  env = { PORT: String(await freePort()), ...env };
  const nodeArgs = serviceNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, script)], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: BENCH_SECRET, LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Drained so that its logs never fill the pipe and block the service mid-measurement.
  child.stdout!.resume();
  const port = env['PORT']!;
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`${script} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, child, stop: () => stopChild(child) };
}

/**
 * The service in a process without HTTP (e.g. ROLES=projector, as the production layout runs the
 * projector apart from the API); ready once it logs that it started.
 */
export async function startRoleProcess(env: Record<string, string>): Promise<{ readonly pid: number; stop(): Promise<void> }> {
  const nodeArgs = serviceNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'dist/src/main.js')], {
    cwd: ROOT,
    env: { ...process.env, AUTH_JWT_SECRET: BENCH_SECRET, HOST: '127.0.0.1', PORT: '0', ...env, LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen = (seen + chunk.toString('utf8')).slice(-4096);
      if (!seen.includes('"service started"')) return;
      child.stdout!.off('data', onData);
      // Drained so that its logs never fill the pipe and block it.
      child.stdout!.resume();
      resolve();
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`role process exited with ${code}`)));
  });
  return { pid: child.pid!, stop: () => stopChild(child) };
}

/** SIGTERM, as an orchestrator stops the service; resolves once the process has exited. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** Node's flags in `npm run start:prod` (the heap bound): the service is measured as it is run. */
function productionNodeArgs(): string[] {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const [node, ...rest] = (scripts['start:prod'] ?? '').split(' ');
  if (node !== 'node') throw new Error('start:prod must run node directly');
  return rest.filter((arg) => arg.startsWith('--'));
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1024 / 1024);
}
