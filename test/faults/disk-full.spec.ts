import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { makeTempDir } from '../support/temp-dir.js';
import { buildDist, startServiceProcess, waitUntil, type ServiceProcess } from './service-process.js';

/**
 * A full disk under DATA_DIR, for real: the service runs in a mount namespace of its own
 * (`unshare --mount`) on a 16 MiB tmpfs mounted over its DATA_DIR, and the test fills that file
 * system until the kernel answers ENOSPC, so SQLite meets SQLITE_FULL exactly as on a full disk.
 * The mount lives and dies with the process; the test reaches it through /proc/<pid>/root.
 *
 * Why this and not something else: we run as root, so chmod cannot make a directory read-only;
 * `PRAGMA max_page_count` would be SQLite's own limit, set from inside, not a full disk; a loop
 * device needs an image and mkfs. A read-only remount cannot be done under a process that has
 * the file open for writing (EBUSY), so the read-only case is covered by the same mapping
 * (SQLITE_READONLY), not by this test.
 */

const NAMESPACE = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o size=16m,mode=0700 tmpfs "$DATA_DIR" && exec "$@"', 'sh'];
const SPACE_CHUNKS = [1 << 20, 64 << 10, 4 << 10, 512, 1];

describe('disk full under DATA_DIR (real ENOSPC, embedded profile)', () => {
  const temp = makeTempDir('tfe-full-');
  const dataDir = join(temp.path, 'data');
  let service: ServiceProcess;

  beforeAll(async () => {
    buildDist();
    mkdirSync(dataDir);
    service = await startServiceProcess({ dataDir, wrapper: NAMESPACE, env: { ROLES: 'api,projector' } });
  }, 300_000);
  afterAll(async () => {
    await service?.kill();
    temp.remove();
  });

  it('answers 503 storage_unavailable, writes nothing, is not ready, and recovers once space returns', async () => {
    const inside = `/proc/${service.pid}/root${dataDir}`;
    const platform = await service.token('host-platform', 'platform');
    const auditor = await service.token('auditor-1', 'auditor');
    const register = (orgId: string) => service.call('POST', '/v1/organisations', { token: platform, body: { id: orgId, name: `Full ${orgId}` }, headers: { 'idempotency-key': `key-${orgId}` } });
    const history = async (): Promise<string[]> => String((await service.call('GET', '/v1/audit/export?format=jsonl', { token: auditor })).body ?? '').split('\n').filter(Boolean);

    for (const orgId of ['before-1', 'before-2']) expect((await register(orgId)).status).toBe(201);
    await waitUntil('ready', async () => (await service.call('GET', '/health/ready')).status === 200);
    // An empty WAL: from here every commit needs the file system to grow the WAL.
    checkpointInside(service.pid, join(dataDir, DATABASE_FILE));
    const eventsBefore = await history();

    const filler = join(inside, 'filler');
    fillUp(filler);
    const refused = [];
    for (const orgId of ['during-1', 'during-2', 'during-3']) refused.push({ orgId, answer: await register(orgId) });
    for (const { answer } of refused) {
      expect({ status: answer.status, code: answer.body.code }).toEqual({ status: 503, code: 'storage_unavailable' });
      expect(answer.headers.get('content-type')).toContain('application/problem+json');
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    const ready = await service.call('GET', '/health/ready');
    expect({ status: ready.status, code: ready.body.code }).toEqual({ status: 503, code: 'not_ready' });
    // Nothing half written: not one event of the refused commands, the chains whole.
    expect(await history()).toEqual(eventsBefore);

    unlinkSync(filler);
    await waitUntil('ready again, without a restart', async () => (await service.call('GET', '/health/ready')).status === 200);
    // The same requests again: no claim of theirs was left behind, so they run now.
    for (const { orgId } of refused) expect((await register(orgId)).status).toBe(201);
    const after = await history();
    expect(after.slice(0, eventsBefore.length)).toEqual(eventsBefore);
    expect(after.map((line) => JSON.parse(line).stream)).toEqual([...eventsBefore.map((line) => JSON.parse(line).stream), 'organisation-during-1', 'organisation-during-2', 'organisation-during-3']);
    const integrity = await service.call<string>('GET', '/v1/audit/integrity', { token: auditor });
    expect(JSON.parse(String(integrity.body).trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', ok: true, eventsChecked: after.length });
    const head = JSON.parse(after.at(-1)!).position as string;
    const view = await service.call('GET', `/v1/organisations/during-3?minPosition=${head}`, { token: platform });
    expect(view.status).toBe(200);
  }, 120_000);
});

/**
 * `PRAGMA wal_checkpoint(TRUNCATE)` through a second connection, opened inside the service's mount
 * namespace (SQLite resolves /proc/<pid>/root to the outer file system, where the file is not).
 */
function checkpointInside(pid: number, file: string): void {
  const script = "const D = require('better-sqlite3'); const db = new D(process.env.DB_FILE, { fileMustExist: true }); const [r] = db.pragma('wal_checkpoint(TRUNCATE)'); db.close(); if (r.busy) process.exit(3);";
  const run = spawnSync('nsenter', ['--target', String(pid), '--mount', `--wd=${process.cwd()}`, '--', process.execPath, '-e', script], { env: { ...process.env, DB_FILE: file }, encoding: 'utf8', timeout: 30_000 });
  if (run.status !== 0) throw new Error(`checkpoint failed (${run.status}): ${run.stderr}`);
}

/** Writes until the file system refuses even a byte: ENOSPC from the kernel, not from us. */
function fillUp(path: string): void {
  const fd = openSync(path, 'w');
  try {
    for (const size of SPACE_CHUNKS) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw error;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
