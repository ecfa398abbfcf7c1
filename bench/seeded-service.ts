import { loadConfig } from '../src/config/config.js';
import { buildRuntime } from '../src/runtime/runtime.factory.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { projections } from '../src/runtime/service.js';
import { BENCH_SECRET, seedUsers } from './bench-support.js';

/**
 * The embedded runtime with only the projector role: used to seed a data directory and wait until
 * every read model has caught up, before the service under test is started on it.
 */
export async function projectorRuntime(dataDir: string, env: Record<string, string> = {}): Promise<Runtime> {
  const config = loadConfig({ DATA_DIR: dataDir, AUTH_JWT_SECRET: BENCH_SECRET, ROLES: 'projector', LOG_LEVEL: 'warn', ...env });
  const runtime = await buildRuntime(config, { projections });
  await runtime.start();
  return runtime;
}

export async function waitForReadModels(runtime: Runtime, timeoutMs = 600_000): Promise<void> {
  const head = await runtime.eventStore.headPosition();
  if (head && !(await runtime.progress.waitFor(head, timeoutMs))) throw new Error('read models did not catch up');
}

/** Seeds `users` into the data directory and projects them, so a service started on it finds its read models up to date. */
export async function seedDataDir(dataDir: string, users: number, perOrg: number, mode: Parameters<typeof seedUsers>[3], prefix?: string): Promise<void> {
  const seeding = await projectorRuntime(dataDir);
  await seedUsers(seeding.eventStore, users, perOrg, mode, prefix);
  await waitForReadModels(seeding);
  await seeding.close();
}
