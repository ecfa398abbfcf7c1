import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { openSqlite, type SqliteDatabase } from '../../src/infrastructure/sqlite/sqlite.database.js';
import { SqliteJobRepository } from '../../src/infrastructure/scheduler/sqlite.job-repository.js';
import { makeTempDir } from '../support/temp-dir.js';
import { waitFor } from '../support/wait-for.js';

/**
 * Two OS processes run Agenda on one SQLite file, so the lock query meets real contention for
 * SQLite's write lock (busy_timeout, BEGIN IMMEDIATE) rather than the serialisation a single
 * JavaScript thread gives for free. Node 20 cannot run TypeScript, so the adapter's own sources
 * are transpiled (not re-implemented) for the child processes.
 */
const ROOT = process.cwd();
const ADAPTER_SOURCES = [
  'src/infrastructure/sqlite/sqlite.database.ts',
  ...readdirSync(join(ROOT, 'src/infrastructure/scheduler'))
    .filter((file) => file.startsWith('sqlite.') && file.endsWith('.ts'))
    .map((file) => `src/infrastructure/scheduler/${file}`),
];

const WORKER_SCRIPT = `
import { Agenda } from 'agenda';
import { openSqlite } from './src/infrastructure/sqlite/sqlite.database.js';
import { SqliteAgendaBackend } from './src/infrastructure/scheduler/sqlite.agenda-backend.js';

const [file, name] = process.argv.slice(2);
const db = openSqlite(file);
const recordRun = db.prepare('INSERT INTO test_runs (job_id, worker) VALUES (?, ?)');
const agenda = new Agenda({ backend: new SqliteAgendaBackend(db), name, processEvery: 20, defaultLockLifetime: 5000 });
agenda.define('contended', async (job) => { recordRun.run(String(job.attrs._id), name); });
process.on('message', async (message) => {
  if (message !== 'stop') return;
  await agenda.stop();
  db.close();
  process.exit(0);
});
await agenda.start();
process.send('started');
`;

function buildWorker(into: string): string {
  for (const source of ADAPTER_SOURCES) {
    const { outputText } = ts.transpileModule(readFileSync(join(ROOT, source), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: source,
    });
    const target = join(into, source.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(into, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(resolve(ROOT, 'node_modules'), join(into, 'node_modules'), 'dir');
  const worker = join(into, 'worker.js');
  writeFileSync(worker, WORKER_SCRIPT);
  return worker;
}

function startWorker(script: string, file: string, name: string): { child: ChildProcess; started: Promise<void>; exited: Promise<number | null>; stderr: () => string } {
  const child = fork(script, [file, name], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const started = new Promise<void>((resolveStarted, reject) => {
    child.once('message', () => resolveStarted());
    child.once('exit', (code) => reject(new Error(`worker ${name} exited early (${String(code)}): ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));
  return { child, started, exited, stderr: () => stderr };
}

describe('SQLite job repository across processes', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let db: SqliteDatabase | undefined;
  const workers: ReturnType<typeof startWorker>[] = [];

  beforeAll(() => {
    dir = makeTempDir('tfe-agenda-processes-');
  });

  afterAll(() => {
    for (const { child } of workers) if (child.exitCode === null) child.kill();
    db?.close();
    dir.remove();
  });

  it('runs each of 200 due jobs exactly once with two worker processes on one file', async () => {
    const total = 200;
    const file = join(dir.path, 'service.sqlite');
    const script = buildWorker(join(dir.path, 'build'));
    db = openSqlite(file);
    const repo = new SqliteJobRepository(db);
    await repo.connect();
    db.exec('CREATE TABLE test_runs (job_id TEXT NOT NULL, worker TEXT NOT NULL)');
    workers.push(startWorker(script, file, 'first'), startWorker(script, file, 'second'));
    await Promise.all(workers.map((worker) => worker.started));

    // All jobs become visible at once, while both workers poll, so both lock loops race over them.
    const due = new Date(Date.now() - 1_000);
    const insert = db.prepare(
      `INSERT INTO agenda_jobs (id, name, priority, type, next_run_at, data) VALUES (?, 'contended', 0, 'normal', ?, ?)`,
    );
    db.transaction(() => {
      for (let n = 0; n < total; n += 1) insert.run(`job-${n}`, due.getTime(), JSON.stringify({ n }));
    }).immediate();
    await waitFor('every job to finish', async () => (await repo.queryJobs({ name: 'contended', state: 'completed' })).total === total, 40_000);
    for (const { child } of workers) child.send('stop');
    const exitCodes = await Promise.all(workers.map((worker) => worker.exited));

    expect(exitCodes).toEqual([0, 0]);
    const runsPerJob = db.prepare('SELECT job_id, count(*) AS runs FROM test_runs GROUP BY job_id').all() as { runs: number }[];
    expect(runsPerJob.filter((job) => job.runs !== 1)).toEqual([]);
    expect(runsPerJob).toHaveLength(total);
  }, 60_000);
});
