import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { appendBench, SCALING_APPENDS } from './append.bench.js';
import { commandLoadBench } from './command-load.bench.js';
import { ROOT } from './bench-support.js';
import { decisionInProcessBench } from './decision-in-process.bench.js';
import { enforcementCheckBench } from './enforcement-check.bench.js';
import { hostCacheBench } from './host-cache.bench.js';
import { organisationFoldBench } from './organisation-fold.bench.js';
import { projectionLagBench } from './projection-lag.bench.js';
import { rebuildBench } from './rebuild.bench.js';
import { remindersBench } from './reminders.bench.js';
import { startupBench } from './startup.bench.js';
import { crashSafetySection, performanceReport, type BenchResults } from './performance.report.js';

/**
 * `npm run bench`: every benchmark against the embedded profile on loopback, one after another so
 * they do not compete for the two cores; results to bench/results.json and docs/performance.md.
 * BENCH_REMINDER_USERS lowers the reminder benchmark's scale for a quick run (default 100,000).
 * BENCH_ONLY=enforcementCheck,projectionLag (keys of results.json) runs only those and keeps the
 * other figures of the last full run, e.g. to re-measure one figure after a change.
 */
async function main(): Promise<void> {
  const loadAverage = loadavg()[0]!;
  const only = (process.env['BENCH_ONLY'] ?? '').split(',').filter(Boolean);
  const previous = only.length ? (JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) as BenchResults) : null;
  const measured: string[] = [];
  const step = async <K extends keyof BenchResults>(key: K, name: string, run: () => Promise<BenchResults[K]>): Promise<BenchResults[K]> => {
    if (previous && !only.includes(key) && previous[key] !== undefined) return previous[key];
    measured.push(key);
    const started = performance.now();
    process.stdout.write(`${name} ... `);
    const result = await run();
    process.stdout.write(`${Math.round((performance.now() - started) / 1000)} s ${JSON.stringify(result)}\n`);
    return result;
  };
  const enforcementCheck = await step('enforcementCheck', 'enforcement check (HTTP, 10,000 users, 3 rounds)', () => enforcementCheckBench(10_000, 8, 3));
  const decisionInProcess = await step('decisionInProcess', 'decision in process (10,000 users)', () => decisionInProcessBench(10_000, 200_000));
  const append = await step('append', 'append (single events)', () => appendBench(3_000));
  const rebuild = await step('rebuild', 'rebuild (1,000,000 events), then appends on that history', () => rebuildBench(1_000_000));
  const projectionLag = await step('projectionLag', 'projection lag (1,000 commands/s)', () => projectionLagBench(1_000, 10));
  const hostCache = await step('hostCache', 'host cache (1,000,000 users; staleness at 1,000 commands/s)', () => hostCacheBench(1_000_000, 1_000, 10));
  const commandLoad = await step('commandLoad', 'commands under load (1,000 commands/s and a ramp, 3 runs)', () => commandLoadBench(3));
  const reminders = await step('reminders', 'reminders', () => remindersBench(Number(process.env['BENCH_REMINDER_USERS'] ?? 100_000), 600));
  const scaling = await step('scaling', 'decision and append scaling', () => scalingBench(rebuild));
  const startup = await step('startup', 'start-up and idle memory', () => startupBench());
  const results: BenchResults = { enforcementCheck, decisionInProcess, append, rebuild, projectionLag, hostCache, commandLoad, reminders, scaling, startup };

  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(numbersOnly(results), null, 2)}\n`);
  const report = join(ROOT, 'docs/performance.md');
  const before = existsSync(report) ? readFileSync(report, 'utf8') : '';
  writeFileSync(report, `${performanceReport(results, machine, new Date(), { measured: previous ? measured : [], loadAverage, cores: cpus().length })}${crashSafetySection(before)}`);
  process.stdout.write('wrote bench/results.json and docs/performance.md\n');
}

/** The decision by number of users, appends by number of events already stored, an organisation's fold by members. */
async function scalingBench(rebuild: BenchResults['rebuild']): Promise<BenchResults['scaling']> {
  const scaling: BenchResults['scaling'] = { decisionP99UsByUsers: {}, appendEventsPerSecByStoredEvents: {}, organisationFoldByMembers: {} };
  for (const users of [1_000, 10_000, 100_000, 1_000_000]) {
    scaling.decisionP99UsByUsers[users] = (await decisionInProcessBench(users, 50_000)).p99Us;
  }
  scaling.appendEventsPerSecByStoredEvents[1_000] = (await appendBench(SCALING_APPENDS, 1_000)).eventsPerSec;
  scaling.appendEventsPerSecByStoredEvents[rebuild.events] = rebuild.appendsPerSecAfter;
  for (const members of [1_000, 10_000, 100_000]) scaling.organisationFoldByMembers[members] = organisationFoldBench(members);
  return scaling;
}

/** results.json holds numbers only, as the benchmark issue asks. */
function numbersOnly(value: unknown): unknown {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, numbersOnly(v)]));
  return null;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`benchmark failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
