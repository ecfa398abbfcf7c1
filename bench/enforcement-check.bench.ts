import autocannon from 'autocannon';
import { startServiceProcess, tempDir, token, type ServiceProcess } from './bench-support.js';
import { seedDataDir } from './seeded-service.js';
import { round2 } from './append.bench.js';

/** One measured round: the service and both baselines, one after another on the same users and connections. */
export interface EnforcementCheckRound {
  rps: number;
  p99Ms: number;
  bareFastifyRps: number;
  bareP99Ms: number;
  uncachedRps: number;
  uncachedP99Ms: number;
  ratio: number;
  p99Ratio: number;
}

export interface EnforcementCheckResult {
  /** Medians over the rounds; `ratio` and `p99Ratio` are the medians of each round's own ratios. */
  rps: number;
  bareFastifyRps: number;
  ratio: number;
  p99Ms: number;
  bareP99Ms: number;
  p99Ratio: number;
  /** The earlier baseline (JWT verified on every request, constant answer), same rounds. */
  uncachedRps: number;
  uncachedP99Ms: number;
  ratioToUncached: number;
  /** Spread of the per-round ratios. */
  ratioMin: number;
  ratioMax: number;
  p99RatioMin: number;
  p99RatioMax: number;
  rounds: number;
  users: number;
}

const CONNECTIONS = 50;

async function load(url: string, users: number, seconds: number, auth: string): Promise<{ rps: number; p99: number; errors: number; detail: string }> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    headers: { authorization: `Bearer ${auth}` },
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/v1/enforcement/u${next++ % users}` }) }],
  });
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx + result.timeouts,
    detail: `${result.non2xx} non-2xx, ${result.timeouts} timeouts, ${result.errors} errors of ${result.requests.total} requests`,
  };
}

/**
 * GET /v1/enforcement/:userId under 50 connections: the service against bare Fastify with the same
 * token cache, authorization and an in-memory decision per user (the baseline), and against the
 * earlier baseline without them, in `rounds` rounds of the three side by side.
 */
export async function enforcementCheckBench(users = 10_000, seconds = 10, rounds = 3): Promise<EnforcementCheckResult> {
  const dir = tempDir('tfe-bench-check-');
  const started: ServiceProcess[] = [];
  try {
    await seedDataDir(dir.path, users, 100, 'hard');
    const auth = await token('host-platform', ['platform']);
    const service = await startServiceProcess({ DATA_DIR: dir.path, ROLES: 'api,projector' });
    started.push(service);
    const bare = await startServiceProcess({ BARE_MODE: 'cached', BARE_USERS: String(users) }, 'dist/bench/bare-fastify.server.js');
    started.push(bare);
    const uncached = await startServiceProcess({ BARE_MODE: 'uncached' }, 'dist/bench/bare-fastify.server.js');
    started.push(uncached);
    for (const server of started) await load(server.url, users, 2, auth);
    const measured: EnforcementCheckRound[] = [];
    for (let round = 0; round < rounds; round++) {
      const ours = await load(service.url, users, seconds, auth);
      const baseline = await load(bare.url, users, seconds, auth);
      const old = await load(uncached.url, users, seconds, auth);
      for (const [name, run] of [['service', ours], ['baseline', baseline], ['uncached baseline', old]] as const) {
        if (run.errors > 0) throw new Error(`${name}: ${run.detail}`);
      }
      measured.push({
        rps: Math.round(ours.rps), p99Ms: ours.p99,
        bareFastifyRps: Math.round(baseline.rps), bareP99Ms: baseline.p99,
        uncachedRps: Math.round(old.rps), uncachedP99Ms: old.p99,
        ratio: round2(ours.rps / baseline.rps), p99Ratio: round2(ours.p99 / baseline.p99),
      });
    }
    const median = (pick: (r: EnforcementCheckRound) => number): number => {
      const sorted = measured.map(pick).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    const ratios = measured.map((r) => r.ratio);
    const p99Ratios = measured.map((r) => r.p99Ratio);
    return {
      rps: median((r) => r.rps),
      bareFastifyRps: median((r) => r.bareFastifyRps),
      ratio: median((r) => r.ratio),
      p99Ms: median((r) => r.p99Ms),
      bareP99Ms: median((r) => r.bareP99Ms),
      p99Ratio: median((r) => r.p99Ratio),
      uncachedRps: median((r) => r.uncachedRps),
      uncachedP99Ms: median((r) => r.uncachedP99Ms),
      ratioToUncached: median((r) => round2(r.rps / r.uncachedRps)),
      ratioMin: Math.min(...ratios),
      ratioMax: Math.max(...ratios),
      p99RatioMin: Math.min(...p99Ratios),
      p99RatioMax: Math.max(...p99Ratios),
      rounds,
      users,
    };
  } finally {
    await Promise.all(started.map((server) => server.stop()));
    dir.remove();
  }
}
