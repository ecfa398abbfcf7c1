import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePositions } from '../src/kernel/position.js';
import { DERIVED_DATABASE_FILE } from '../src/runtime/data-dir.files.js';
import { Agent } from 'node:http';
import { percentile, startRoleProcess, startServiceProcess, tempDir, token } from './bench-support.js';
import { round2 } from './append.bench.js';
import { atSteadyRate, ReadModelWatcher, send } from './projection-lag.bench.js';
import { seedDataDir } from './seeded-service.js';

/** Command answer times at a steady offered rate (ms). */
export interface CommandLoadFigures {
  p50Ms: number;
  p99Ms: number;
  /** Commands answered per second over the pass (the offered rate when the service keeps up). */
  commandsPerSec: number;
}

/** What the projector's process spent per command during the pass at 1,000/s (layout apart). */
export interface ProjectorWork {
  cpuMs: number;
  /** Bytes it sent towards the disk (\`write_bytes\` of /proc/<pid>/io: WAL frames and checkpoints). */
  writtenKb: number;
}

export interface CommandLoadResult {
  /** The layout the service is measured in: the API and the projector in processes of their own. */
  p50Ms: number;
  p99Ms: number;
  commandsPerSec: number;
  /** Spread of the p99 at 1,000 commands/s over the runs. */
  p99MsMin: number;
  p99MsMax: number;
  /** Highest offered rate of the ramp whose command p99 stayed ≤ 50 ms (median over the runs; 0 if none). */
  maxRateP99Under50Ms: number;
  /**
   * The baseline (bare-commands.server.ts: the same event store, appends and projector, without
   * Nest, the domain and the command handling) at 1,000 commands/s, measured in every run right
   * after the service; medians and the p99's spread.
   */
  baselineP50Ms: number;
  baselineP99Ms: number;
  baselineP99MsMin: number;
  baselineP99MsMax: number;
  /** The service's p99 over the baseline's, run by run: median and spread. */
  p99RatioToBaseline: number;
  p99RatioMin: number;
  p99RatioMax: number;
  /** Medians over the runs (absent in results from before 2026-12-02, session 9). */
  projectorCpuMsPerCommand?: number;
  projectorWrittenKbPerCommand?: number;
  runs: number;
}

const USERS = 10_000;
const ORGS = USERS / 100;
const P99_BOUND_MS = 50;
/** Offered rates of the ramp, from below the goal's 1,000/s: it reports the highest rate that keeps the bound. */
const RAMP = [250, 500, 750, 1_000, 1_500, 2_000, 2_500, 3_000];
/**
 * Client connections. By Little's law, n connections at 1,000/s admit a mean answer time of at
 * most n ms before the client's own pool queues requests; with a group commit's fsync in every
 * answer, 32 left no margin and measured the pool rather than the service.
 */
const CONNECTIONS = 128;

/**
 * Membership commands (PUT a user into another organisation) over HTTP at a steady rate from a
 * bounded keep-alive pool, timing each answer: a 2xx answer means the events are fsynced. Every
 * command is new: command i joins user (37 i mod 10,000) to the organisation `1 + ⌊i / 10,000⌋`
 * after the user's own, so no command repeats another and each stream sees a steady share.
 */
export async function commandLoadBench(runs = 3, seconds = 10, rampSeconds = 4): Promise<CommandLoadResult> {
  const apart: CommandLoadFigures[] = [];
  const baseline: CommandLoadFigures[] = [];
  const maxRates: number[] = [];
  const projectorWork: ProjectorWork[] = [];
  // Seeded once; every measured service starts on its own copy.
  const seeded = tempDir('tfe-bench-commands-seed-');
  try {
    await seedDataDir(seeded.path, USERS, 100, 'soft');
    for (let run = 0; run < runs; run++) {
      const layoutApart = await measureLayout(seeded.path, 'apart', seconds, rampSeconds);
      apart.push(layoutApart.at1000);
      maxRates.push(layoutApart.maxRate);
      if (layoutApart.projector) projectorWork.push(layoutApart.projector);
      baseline.push((await measureLayout(seeded.path, 'baseline', seconds, 0)).at1000);
    }
  } finally {
    seeded.remove();
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const ratios = apart.map((figures, run) => round2(figures.p99Ms / baseline[run]!.p99Ms));
  return {
    p50Ms: median(apart.map((f) => f.p50Ms)),
    p99Ms: median(apart.map((f) => f.p99Ms)),
    commandsPerSec: median(apart.map((f) => f.commandsPerSec)),
    p99MsMin: Math.min(...apart.map((f) => f.p99Ms)),
    p99MsMax: Math.max(...apart.map((f) => f.p99Ms)),
    maxRateP99Under50Ms: median(maxRates),
    baselineP50Ms: median(baseline.map((f) => f.p50Ms)),
    baselineP99Ms: median(baseline.map((f) => f.p99Ms)),
    baselineP99MsMin: Math.min(...baseline.map((f) => f.p99Ms)),
    baselineP99MsMax: Math.max(...baseline.map((f) => f.p99Ms)),
    p99RatioToBaseline: median([...ratios]),
    p99RatioMin: Math.min(...ratios),
    p99RatioMax: Math.max(...ratios),
    projectorCpuMsPerCommand: median(projectorWork.map((w) => w.cpuMs)),
    projectorWrittenKbPerCommand: median(projectorWork.map((w) => w.writtenKb)),
    runs,
  };
}

/**
 * One layout on its own copy of the seeded directory: the service's API with the projector in a
 * process of its own (`apart`, as production runs them), or the baseline server with the same
 * projector process.
 */
async function measureLayout(seeded: string, layout: 'apart' | 'baseline', seconds: number, rampSeconds: number): Promise<{ at1000: CommandLoadFigures; maxRate: number; projector: ProjectorWork | null }> {
  const dir = tempDir('tfe-bench-commands-');
  const stops: Array<() => Promise<void>> = [];
  try {
    cpSync(seeded, dir.path, { recursive: true });
    const projectorProcess = await startRoleProcess({ DATA_DIR: dir.path, ROLES: 'projector' });
    stops.push(projectorProcess.stop);
    const projectorPid = projectorProcess.pid;
    const service =
      layout === 'apart'
        ? await startServiceProcess({ DATA_DIR: dir.path, ROLES: 'api' })
        : await startServiceProcess({ DATA_DIR: dir.path }, 'dist/bench/bare-commands.server.js');
    stops.push(service.stop);
    const readModel = new ReadModelWatcher(join(dir.path, DERIVED_DATABASE_FILE));
    stops.push(async () => readModel.close());
    const auth = `Bearer ${await token('host-platform', ['platform'])}`;
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    stops.push(async () => agent.destroy());
    let next = 0;
    let lastPosition = '0';
    /**
     * Each pass starts from a projector that has caught up: a pass the service only just kept up
     * with leaves a projection backlog, which would otherwise be measured as the next pass's.
     */
    const settle = async (): Promise<void> => {
      if (!(await readModel.reached(lastPosition, 120_000))) throw new Error(`the projector did not reach ${lastPosition} within 2 minutes`);
    };
    const pass = async (rate: number, passSeconds: number): Promise<CommandLoadFigures> => {
      const answers: number[] = [];
      let failures = 0;
      const elapsed = await atSteadyRate(rate, rate * passSeconds, async () => {
        const i = next++;
        const user = (i * 37) % USERS;
        const orgId = `uorg${(Math.floor(user / 100) + 1 + Math.floor(i / USERS)) % ORGS}`;
        const sentAt = performance.now();
        const response = await send(agent, `${service.url}/v1/organisations/${orgId}/members/u${user}`, 'PUT', auth, '{"role":"member"}');
        answers.push(performance.now() - sentAt);
        if (response.status >= 300) failures++;
        else lastPosition = maxPosition(lastPosition, (JSON.parse(response.body) as { position: string }).position);
      });
      if (failures > 0) throw new Error(`${failures} of ${rate * passSeconds} commands failed at ${rate}/s`);
      const sorted = answers.sort((a, b) => a - b);
      const tenths = (ms: number): number => Math.round(ms * 10) / 10;
      return { p50Ms: tenths(percentile(sorted, 50)), p99Ms: tenths(percentile(sorted, 99)), commandsPerSec: Math.round(answers.length / elapsed) };
    };
    // Warm-up, not measured: JIT, prepared statements and the command handlers' stream caches start cold.
    await pass(1_000, 2);
    await settle();
    const before = processUsage(projectorPid);
    const at1000 = await pass(1_000, seconds);
    // Read once the projector has caught up, so the whole pass's projection work is counted.
    await settle();
    const after = processUsage(projectorPid);
    const commands = 1_000 * seconds;
    const projector = layout === 'apart' ? { cpuMs: round2((after.cpuMs - before.cpuMs) / commands), writtenKb: Math.round((after.writtenBytes - before.writtenBytes) / commands / 1024) } : null;
    let maxRate = 0;
    if (rampSeconds > 0) {
      for (const rate of RAMP) {
        await settle();
        const figures = await pass(rate, rampSeconds);
        if (figures.p99Ms > P99_BOUND_MS || figures.commandsPerSec < rate * 0.95) break;
        maxRate = rate;
      }
    }
    return { at1000, maxRate, projector };
  } finally {
    for (const stop of stops.reverse()) await stop();
    dir.remove();
  }
}

/** CPU time (user and system, in the kernel's 100 Hz ticks) and bytes written of a process of ours. */
function processUsage(pid: number): { cpuMs: number; writtenBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const written = /write_bytes: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  return { cpuMs: (Number(fields[11]) + Number(fields[12])) * 10, writtenBytes: Number(written?.[1] ?? 0) };
}

function maxPosition(a: string, b: string): string {
  return comparePositions(b, a) > 0 ? b : a;
}
