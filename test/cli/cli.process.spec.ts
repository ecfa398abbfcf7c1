import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import { DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { startHarness } from '../support/http-harness.js';
import { makeTempDir } from '../support/temp-dir.js';
import { expectCommandAnswer, registerOrg } from '../http/http-steps.js';

/** The built CLI as an operator runs it: a real process, bounded in time, with a clean environment. */
function cli(dataDir: string, args: string[], env: Record<string, string> = {}): SpawnSyncReturns<string> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(AUTH_|MASTER_KEY|PROFILE|ROLES|SMTP_URL)/.test(key)));
  return spawnSync(process.execPath, ['dist/src/cli.js', ...args], { env: { ...inherited, DATA_DIR: dataDir, LOG_LEVEL: 'silent', ...env }, encoding: 'utf8', timeout: 60_000 });
}

function refreshDist(): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['scripts/dist.refresh.mjs'], { encoding: 'utf8', timeout: 240_000 });
}

describe('the CLI as a process (dist/src/cli.js)', () => {
  const temp = makeTempDir('tfe-cli-');
  const empty = join(temp.path, 'empty');

  beforeAll(() => {
    const built = refreshDist();
    if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
  }, 250_000);
  afterAll(() => temp.remove());

  it('does not compile again when dist is up to date', () => {
    const again = refreshDist();
    expect(again.status).toBe(0);
    expect(again.stderr).not.toContain('compiling');
  });

  it.each([['verify'], ['export'], ['rebuild']])('refuses to %s a DATA_DIR without a store, and creates none', (command) => {
    const run = cli(empty, [command]);
    expect(run.status).toBe(66);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`no event store at ${join(empty, DATABASE_FILE)}`);
    expect(existsSync(empty) ? readdirSync(empty) : []).toEqual([]);
  });

  it('refuses to mint a token without the service\'s secret instead of making one up', () => {
    const run = cli(empty, ['token', '--sub', 'host', '--role', 'platform']);
    expect(run.status).toBe(78);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/Start the service once .* or set AUTH_JWT_SECRET/);
    expect(existsSync(join(empty, 'jwt.secret'))).toBe(false);
  });

  it('mints a token with the stored secret, or with AUTH_JWT_SECRET', async () => {
    const dir = join(temp.path, 'with-secret');
    const secret = randomBytes(32);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, 'jwt.secret'), secret.toString('hex'), { mode: 0o600 });
    const stored = cli(dir, ['token', '--sub', 'host', '--role', 'platform']);
    expect(stored.status).toBe(0);
    expect((await jwtVerify(stored.stdout.trim(), secret)).payload).toMatchObject({ sub: 'host', roles: ['platform'] });

    const fromEnv = cli(empty, ['token', '--sub', 'ada'], { AUTH_JWT_SECRET: 'x'.repeat(40) });
    expect(fromEnv.status).toBe(0);
    expect((await jwtVerify(fromEnv.stdout.trim(), new TextEncoder().encode('x'.repeat(40)))).payload).toMatchObject({ sub: 'ada', roles: [] });
  });

  it.each([
    [['token', '--sub', 'host', '--rol', 'platform'], "Unknown option '--rol'"],
    [['token', '--sub', 'host', '--role', 'boss'], 'unknown --role "boss"'],
    [['token', '--sub', 'host', '--ttl', 'forever'], '--ttl "forever" is not a duration'],
    [['token', '--sub', 'host', '--ttl', '30d'], '--ttl 30d is longer than AUTH_MAX_TOKEN_LIFETIME (24 hours)'],
    [['token'], 'token needs --sub'],
    [['export', '--format', 'xml'], '--format "xml": expected jsonl or csv'],
    [['export', '--from', 'yesterday'], '--from "yesterday" is not an ISO instant'],
    [['export', '--type', 'Bad Type'], '--type "Bad Type" is not an event type name'],
    [['verify', '--deep'], 'verify takes no options'],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('says what was wrong with %j (exit 64)', (args, message) => {
    const run = cli(empty, args);
    expect(run.status).toBe(64);
    expect(run.stderr).toContain(message);
    expect(run.stdout).toBe('');
  });

  it('verifies and exports an existing store', async () => {
    const h = await startHarness({ dataDir: join(temp.path, 'store') });
    expectCommandAnswer(await h.call('POST', '/v1/organisations', { token: await h.token('host', 'platform'), body: { id: 'cli-org', name: '=Formula Ltd' } }), 201);
    await registerOrg(h, await h.token('host', 'platform'), 'Second Ltd');
    await h.stop();

    const verified = cli(h.dataDir, ['verify']);
    expect(verified.status).toBe(0);
    const summary = JSON.parse(verified.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ type: 'summary', ok: true, eventsChecked: 2 });

    const exported = cli(h.dataDir, ['export', '--format', 'csv']);
    expect(exported.status).toBe(0);
    expect(exported.stdout.split('\r\n').filter(Boolean)).toHaveLength(3);
  }, 60_000);
});
