import { Agent, request } from 'node:http';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DERIVED_DATABASE_FILE } from '../src/runtime/data-dir.files.js';
import { ENFORCEMENT, enforcementProjection, membershipKey, type EnforcementDoc } from '../src/enforcement/enforcement.projection.js';
import { SqliteReadStore } from '../src/infrastructure/read-store/sqlite.read-store.js';
import { comparePositions } from '../src/kernel/position.js';
import { percentile, startServiceProcess, tempDir, token } from './bench-support.js';
import { seedDataDir } from './seeded-service.js';

export interface ProjectionLagResult {
  commandsPerSec: number;
  p99Ms: number;
  p50Ms: number;
  /** From sending a command to its answer: shows whether commands queue at the offered rate. */
  commandP99Ms: number;
  commands: number;
}

const WARM_UP_SECONDS = 2;

/**
 * Membership commands through HTTP at a steady rate; for each, the time from the command's answer
 * until its effect is committed in the enforcement read model. The bench watches the SQLite file
 * itself (a read-only connection polling every millisecond), so observing adds no load to the
 * service; the member's enforcement document is then checked to show the effect really is there.
 */
export async function projectionLagBench(rate = 1_000, seconds = 10): Promise<ProjectionLagResult> {
  const dir = tempDir('tfe-bench-lag-');
  try {
    const users = 10_000;
    await seedDataDir(dir.path, users, 100, 'soft');
    const service = await startServiceProcess({ DATA_DIR: dir.path, ROLES: 'api,projector' });
    const readModel = new ReadModelWatcher(join(dir.path, DERIVED_DATABASE_FILE));
    const auth = `Bearer ${await token('host-platform', ['platform'])}`;
    // A bounded keep-alive pool, as a host application would use; commands queue client-side beyond it.
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const membership = async (userId: string, orgId: string, joining: boolean): Promise<{ status: number; body: { position?: string; code?: string } }> => {
      const response = await send(agent, `${service.url}/v1/organisations/${orgId}/members/${userId}`, joining ? 'PUT' : 'DELETE', auth, joining ? '{"role":"member"}' : undefined);
      return { status: response.status, body: JSON.parse(response.body) as { position?: string; code?: string } };
    };
    // Warm-up, not measured: JIT, prepared statements and the command handlers' stream caches
    // start cold. Users join a third organisation here, which the measured pass never touches.
    await atSteadyRate(rate, rate * WARM_UP_SECONDS, async (i) => {
      const user = (i * 37) % users;
      await membership(`u${user}`, `uorg${(Math.floor(user / 100) + 2) % 100}`, true);
    });
    const lags: number[] = [];
    const answers: number[] = [];
    const total = rate * seconds;
    const half = Math.ceil(total / 2);
    if (half > users) throw new Error('each user joins at most once');
    let failures = 0;
    const refusals = new Map<string, number>();
    const command = async (i: number): Promise<void> => {
      // The first half joins users to a second organisation, the second half makes them leave it again.
      const joining = i < half;
      const user = ((joining ? i : i - half) * 37) % users;
      const userId = `u${user}`;
      const orgId = `uorg${(Math.floor(user / 100) + 1) % 100}`;
      const sentAt = performance.now();
      const { status, body } = await membership(userId, orgId, joining);
      const answeredAt = performance.now();
      answers.push(answeredAt - sentAt);
      if (status >= 300 || !body.position) {
        failures++;
        const code = body.code ?? String(status);
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
        return;
      }
      const applied = await readModel.reached(body.position);
      if (!applied || (await readModel.membership(userId, orgId)) !== joining) {
        failures++;
        return;
      }
      lags.push(performance.now() - answeredAt);
    };
    const elapsed = await atSteadyRate(rate, total, (i) =>
      command(i).catch((error: unknown) => {
        failures++;
        if (failures < 3) console.error('command failed', (error as Error).message, (error as { cause?: Error }).cause?.message);
      }),
    );
    agent.destroy();
    readModel.close();
    await service.stop();
    if (failures > total / 100) throw new Error(`${failures} commands failed: ${JSON.stringify([...refusals])}`);
    const sorted = lags.sort((a, b) => a - b);
    const tenths = (ms: number): number => Math.round(ms * 10) / 10;
    return {
      commandsPerSec: Math.round(lags.length / elapsed),
      p99Ms: tenths(percentile(sorted, 99)),
      p50Ms: tenths(percentile(sorted, 50)),
      commandP99Ms: tenths(percentile(answers.sort((a, b) => a - b), 99)),
      commands: lags.length,
    };
  } finally {
    dir.remove();
  }
}

/** Starts `total` calls at `rate` per second, whether or not earlier ones finished; seconds taken for all to finish. */
export async function atSteadyRate(rate: number, total: number, call: (i: number) => Promise<void>): Promise<number> {
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; ) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (i < Math.min(due, total)) inFlight.push(call(i++));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inFlight);
  return (performance.now() - started) / 1000;
}

export function send(agent: Agent, url: string, method: string, authorization: string, body?: string): Promise<{ status: number; body: string }> {
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

/** Polls the enforcement projection's checkpoint through the read-store adapter; its writes commit together with it. */
export class ReadModelWatcher {
  private readonly db: Database.Database;
  private readonly store: SqliteReadStore;
  private readonly waiters: { position: string; deadline: number; resolve: (reached: boolean) => void }[] = [];
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true });
    this.store = new SqliteReadStore(this.db);
    this.timer = setInterval(() => void this.poll(), 1);
  }

  reached(position: string, timeoutMs = 30_000): Promise<boolean> {
    return new Promise((resolve) => this.waiters.push({ position, deadline: performance.now() + timeoutMs, resolve }));
  }

  async membership(userId: string, orgId: string): Promise<boolean> {
    const doc = await this.store.get<EnforcementDoc>(ENFORCEMENT, userId);
    return Boolean(doc?.orgs[membershipKey(orgId)]);
  }

  close(): void {
    clearInterval(this.timer);
    for (const waiter of this.waiters.splice(0)) waiter.resolve(false);
    this.db.close();
  }

  private async poll(): Promise<void> {
    if (this.waiters.length === 0 || this.polling) return;
    this.polling = true;
    try {
      const current = await this.store.getCheckpoint(enforcementProjection.name);
      const now = performance.now();
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        const waiter = this.waiters[i]!;
        const reached = current !== null && comparePositions(current, waiter.position) >= 0;
        if (!reached && waiter.deadline > now) continue;
        this.waiters.splice(i, 1);
        waiter.resolve(reached);
      }
    } finally {
      this.polling = false;
    }
  }
}
