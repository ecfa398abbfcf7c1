import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DATABASE_FILE } from '../../src/runtime/data-dir.files.js';
import { startHarness, type Harness } from '../support/http-harness.js';
import { expectCommandAnswer, registerOrg, registerUser, setMember } from '../http/http-steps.js';

/**
 * Tampering behind the service's back: a second connection to the real SQLite file edits the
 * `events` table directly, as an attacker with file access would. The hash chain must notice.
 */
describe('integrity against tampering', () => {
  let h: Harness;
  let auditor: string;
  let orgId: string;
  let stream: string;
  let untouched: string;

  beforeEach(async () => {
    h = await startHarness();
    const platform = await h.token('host-platform', 'platform');
    auditor = await h.token('auditor-1', 'auditor');
    orgId = await registerOrg(h, platform, 'Tamper Ltd');
    untouched = await registerOrg(h, platform, 'Untouched Ltd');
    stream = `organisation-${orgId}`;
    for (let i = 0; i < 3; i++) expectCommandAnswer(await setMember(h, platform, orgId, await registerUser(h, platform), 'member'));
  });
  afterEach(() => h.dispose());

  function tamper(sql: (db: Database.Database) => void): void {
    const db = new Database(join(h.dataDir, DATABASE_FILE));
    try {
      db.transaction(() => sql(db))();
    } finally {
      db.close();
    }
  }

  async function integrity(query = `?stream=${stream}`): Promise<any> {
    const response = await h.call('GET', `/v1/audit/integrity${query}`, { token: auditor });
    expect(response.status).toBe(200);
    return response.body;
  }

  async function storeSummary(): Promise<any> {
    const body = String(await integrity(''));
    const lines = body.trim().split('\n').map((line) => JSON.parse(line));
    return { summary: lines.at(-1), broken: lines.filter((line) => line.type === 'broken') };
  }

  async function hashAt(revision: number): Promise<string> {
    const [event] = await h.service.runtime.eventStore.readStream(stream, { fromRevision: revision, limit: 1 });
    return event!.metadata.hash;
  }

  it('finds nothing wrong in an untouched store', async () => {
    expect(await integrity()).toMatchObject({ ok: true, eventsChecked: 4, firstBroken: null });
    expect((await storeSummary()).summary).toMatchObject({ type: 'summary', ok: true, brokenStreams: 0 });
  });

  it('detects an event whose data was altered', async () => {
    const found = await hashAt(2);
    tamper((db) => db.prepare(`UPDATE events SET data = json_set(data, '$.role', 'admin') WHERE stream = ? AND revision = 2`).run(stream));

    const result = await integrity();
    expect(result).toMatchObject({ ok: false, brokenStreams: 1, firstBroken: { stream, revision: 2, reason: 'hash_mismatch', expectedRevision: 2, foundHash: found } });
    expect(result.firstBroken.expectedHash).toMatch(/^[0-9a-f]{64}$/);
    expect(result.firstBroken.expectedHash).not.toBe(found);
    const { summary, broken } = await storeSummary();
    expect(summary).toMatchObject({ ok: false, brokenStreams: 1, firstBroken: { stream, revision: 2 } });
    expect(broken).toEqual([expect.objectContaining({ stream, revision: 2, reason: 'hash_mismatch' })]);
    expect(await integrity(`?stream=organisation-${untouched}`)).toMatchObject({ ok: true });
  });

  it('detects altered metadata (the actor) even when the data was left alone', async () => {
    tamper((db) => db.prepare(`UPDATE events SET metadata = json_set(metadata, '$.actor.id', 'someone-else') WHERE stream = ? AND revision = 1`).run(stream));
    expect(await integrity()).toMatchObject({ ok: false, firstBroken: { revision: 1, reason: 'hash_mismatch' } });
  });

  it('detects a deleted event', async () => {
    tamper((db) => db.prepare('DELETE FROM events WHERE stream = ? AND revision = 1').run(stream));

    expect(await integrity()).toMatchObject({ ok: false, eventsChecked: 2, firstBroken: { stream, revision: 2, expectedRevision: 1, reason: 'revision_gap' } });
    expect((await storeSummary()).summary).toMatchObject({ ok: false, firstBroken: { stream, revision: 2, reason: 'revision_gap' } });
  });

  it('detects a deleted event whose successors were renumbered to close the gap', async () => {
    tamper((db) => {
      db.prepare('DELETE FROM events WHERE stream = ? AND revision = 1').run(stream);
      db.prepare('UPDATE events SET revision = revision - 1 WHERE stream = ? AND revision > 1').run(stream);
    });
    expect(await integrity()).toMatchObject({ ok: false, firstBroken: { stream, revision: 1, reason: 'prev_hash_mismatch' } });
  });

  it('detects two events swapped (revisions and positions exchanged)', async () => {
    tamper((db) => {
      const rows = db.prepare('SELECT position, revision FROM events WHERE stream = ? AND revision IN (1, 2) ORDER BY revision').all(stream) as Array<{ position: number; revision: number }>;
      const [a, b] = rows as [(typeof rows)[0], (typeof rows)[0]];
      db.prepare('UPDATE events SET revision = 1000, position = 1000000 WHERE position = ?').run(a.position);
      db.prepare('UPDATE events SET revision = ?, position = ? WHERE position = ?').run(a.revision, a.position, b.position);
      db.prepare('UPDATE events SET revision = ?, position = ? WHERE position = 1000000').run(b.revision, b.position);
    });
    expect(await integrity()).toMatchObject({ ok: false, firstBroken: { stream, revision: 1 } });
    expect((await storeSummary()).summary).toMatchObject({ ok: false, firstBroken: { stream, revision: 1 } });
  });

  it('detects two events whose revisions alone were swapped', async () => {
    tamper((db) => {
      db.prepare('UPDATE events SET revision = 1000 WHERE stream = ? AND revision = 1').run(stream);
      db.prepare('UPDATE events SET revision = 1 WHERE stream = ? AND revision = 2').run(stream);
      db.prepare('UPDATE events SET revision = 2 WHERE stream = ? AND revision = 1000').run(stream);
    });
    expect(await integrity()).toMatchObject({ ok: false, firstBroken: { stream, revision: 1, reason: 'prev_hash_mismatch' } });
    expect((await storeSummary()).summary).toMatchObject({ ok: false, firstBroken: { stream, reason: 'revision_gap' } });
  });
});
