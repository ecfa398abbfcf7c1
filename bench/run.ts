import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { appendBench } from './append.bench.js';
import { ROOT } from './bench-support.js';
import { decisionInProcessBench } from './decision-in-process.bench.js';
import { enforcementCheckBench } from './enforcement-check.bench.js';
import { hostCacheBench } from './host-cache.bench.js';
import { projectionLagBench } from './projection-lag.bench.js';
import { rebuildBench } from './rebuild.bench.js';
import { remindersBench } from './reminders.bench.js';
import { startupBench } from './startup.bench.js';
import { crashSafetySection, performanceReport, type BenchResults } from './performance.report.js';

/**
 * `npm run bench`: every benchmark against the embedded profile on loopback, one after another so
 * they do not compete for the two cores; results to bench/results.json and docs/performance.md.
 * BENCH_REMINDER_USERS lowers the reminder benchmark's scale for a quick run (default 100,000).
 */
async function main(): Promise<void> {
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    process.stdout.write(`${name} ... `);
    const result = await run();
    process.stdout.write(`${Math.round((performance.now() - started) / 1000)} s ${JSON.stringify(result)}\n`);
    return result;
  };
  const results: BenchResults = {
    enforcementCheck: await step('enforcement check (HTTP, 10,000 users)', () => enforcementCheckBench(10_000, 10)),
    decisionInProcess: await step('decision in process (10,000 users)', () => decisionInProcessBench(10_000, 200_000)),
    append: await step('append (single events)', () => appendBench(3_000)),
    rebuild: await step('rebuild (1,000,000 events)', () => rebuildBench(1_000_000)),
    projectionLag: await step('projection lag (1,000 commands/s)', () => projectionLagBench(1_000, 10)),
    hostCache: await step('host cache (1,000,000 users; staleness at 1,000 commands/s)', () => hostCacheBench(1_000_000, 1_000, 10)),
    reminders: await step('reminders', () => remindersBench(Number(process.env['BENCH_REMINDER_USERS'] ?? 100_000), 600)),
    scaling: {
      decisionP99UsByUsers: {},
      appendEventsPerSecByStoredEvents: {},
    },
    startup: await step('start-up and idle memory', () => startupBench()),
  };
  for (const users of [1_000, 10_000, 100_000, 1_000_000]) {
    results.scaling.decisionP99UsByUsers[users] = (await step(`decision scaling (${users} users)`, () => decisionInProcessBench(users, 50_000))).p99Us;
  }
  for (const stored of [1_000, 1_000_000]) {
    results.scaling.appendEventsPerSecByStoredEvents[stored] = (await step(`append scaling (${stored} stored events)`, () => appendBench(2_000, stored))).eventsPerSec;
  }
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(numbersOnly(results), null, 2)}\n`);
  const report = join(ROOT, 'docs/performance.md');
  const previous = existsSync(report) ? readFileSync(report, 'utf8') : '';
  writeFileSync(report, `${performanceReport(results, machine, new Date())}${crashSafetySection(previous)}`);
  process.stdout.write('wrote bench/results.json and docs/performance.md\n');
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
