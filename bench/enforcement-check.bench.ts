import autocannon from 'autocannon';
import { seedUsers, startServiceProcess, tempDir, token } from './bench-support.js';
import { projectorRuntime, waitForReadModels } from './seeded-service.js';
import { round2 } from './append.bench.js';

export interface EnforcementCheckResult {
  rps: number;
  bareFastifyRps: number;
  ratio: number;
  p99Ms: number;
  bareP99Ms: number;
  users: number;
}


async function load(url: string, users: number, seconds: number, auth: string): Promise<{ rps: number; p99: number; errors: number }> {
  let next = 0;
  const result = await autocannon({
    url,
    connections: 50,
    duration: seconds,
    headers: { authorization: `Bearer ${auth}` },
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: `/v1/enforcement/u${next++ % users}` }) }],
  });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx + result.timeouts };
}

/** GET /v1/enforcement/:userId under 50 connections against a bare Fastify baseline, same run. */
export async function enforcementCheckBench(users = 10_000, seconds = 10): Promise<EnforcementCheckResult> {
  const dir = tempDir('tfe-bench-check-');
  try {
    const seeding = await projectorRuntime(dir.path);
    await seedUsers(seeding.eventStore, users, 100, 'hard');
    await waitForReadModels(seeding);
    await seeding.close();
    const auth = await token('host-platform', ['platform']);
    const service = await startServiceProcess({ DATA_DIR: dir.path, ROLES: 'api,projector' });
    const bare = await startServiceProcess({}, 'dist/bench/bare-fastify.server.js').catch(async (error: unknown) => {
      await service.stop();
      throw error;
    });
    try {
      await load(service.url, users, 2, auth);
      await load(bare.url, users, 2, auth);
      const ours = await load(service.url, users, seconds, auth);
      const baseline = await load(bare.url, users, seconds, auth);
      if (ours.errors > 0) throw new Error(`enforcement check answered ${ours.errors} errors`);
      return { rps: Math.round(ours.rps), bareFastifyRps: Math.round(baseline.rps), ratio: round2(ours.rps / baseline.rps), p99Ms: ours.p99, bareP99Ms: baseline.p99, users };
    } finally {
      await service.stop();
      await bare.stop();
    }
  } finally {
    dir.remove();
  }
}
