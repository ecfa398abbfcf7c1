import { startServiceProcess, tempDir, token } from './bench-support.js';

export interface StartupResult {
  startupMs: number;
  idleRssMb: number;
}

/** Time from spawning the service on an empty data directory to /health/ready, then its idle RSS. */
export async function startupBench(): Promise<StartupResult> {
  const dir = tempDir('tfe-bench-startup-');
  try {
    const started = performance.now();
    const service = await startServiceProcess({ DATA_DIR: dir.path });
    const startupMs = Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const operator = await token('bench-operator', ['operator']);
    const metrics = await (await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${operator}` } })).text();
    const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? NaN);
    await service.stop();
    return { startupMs, idleRssMb: Math.round(rss / 1024 / 1024) };
  } finally {
    dir.remove();
  }
}
