import { Agent, request } from 'node:http';
import { percentile, seedUsers, startServiceProcess, tempDir, token } from './bench-support.js';
import { projectorRuntime, waitForReadModels } from './seeded-service.js';

export interface ProjectionLagResult {
  commandsPerSec: number;
  p99Ms: number;
  p50Ms: number;
  commands: number;
}

/**
 * Membership commands through HTTP at a steady rate; for each, the time from the command's answer
 * until the enforcement decision reflects it (a query with minPosition, answered once every
 * projection reached the command's position: an upper bound, one loopback round trip included).
 */
export async function projectionLagBench(rate = 1_000, seconds = 10): Promise<ProjectionLagResult> {
  const dir = tempDir('tfe-bench-lag-');
  try {
    const users = 10_000;
    const seeding = await projectorRuntime(dir.path);
    await seedUsers(seeding.eventStore, users, 100, 'soft');
    await waitForReadModels(seeding);
    await seeding.close();
    const service = await startServiceProcess({ DATA_DIR: dir.path, ROLES: 'api,projector' });
    const auth = `Bearer ${await token('host-platform', ['platform'])}`;
    // A bounded keep-alive pool, as a host application would use; commands queue client-side beyond it.
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const lags: number[] = [];
    const total = rate * seconds;
    let failures = 0;
    const refusals = new Map<string, number>();
    const one = (i: number): Promise<void> =>
      command(i).catch((error: unknown) => {
        failures++;
        if (failures < 3) console.error('command failed', (error as Error).message, (error as { cause?: Error }).cause?.message);
      });
    const command = async (i: number): Promise<void> => {
      const orgId = `uorg${i % 100}`;
      const userId = `u${(i * 37) % users}`;
      const joining = Math.floor(i / users) % 2 === 0 && !userId.endsWith('00');
      const response = await send(agent, `${service.url}/v1/organisations/${orgId}/members/${userId}`, joining ? 'PUT' : 'DELETE', auth, joining ? '{"role":"member"}' : undefined);
      const body = JSON.parse(response.body) as { position?: string };
      const answeredAt = performance.now();
      if (response.status >= 300 || !body.position) {
        failures++;
        const code = (body as { code?: string }).code ?? String(response.status);
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
        return;
      }
      // The service holds this query until its read models reached the command's position.
      const effect = await send(agent, `${service.url}/v1/enforcement/${userId}?minPosition=${body.position}`, 'GET', auth);
      if (effect.status !== 200) {
        failures++;
        return;
      }
      lags.push(performance.now() - answeredAt);
    };
    const started = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < total; ) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      while (i < Math.min(due, total)) inFlight.push(one(i++));
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - started) / 1000;
    agent.destroy();
    await service.stop();
    if (failures > total / 100) throw new Error(`${failures} commands failed: ${JSON.stringify([...refusals])}`);
    const sorted = lags.sort((a, b) => a - b);
    return { commandsPerSec: Math.round(lags.length / elapsed), p99Ms: Math.round(percentile(sorted, 99) * 10) / 10, p50Ms: Math.round(percentile(sorted, 50) * 10) / 10, commands: lags.length };
  } finally {
    dir.remove();
  }
}

function send(agent: Agent, url: string, method: string, authorization: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const req = request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
