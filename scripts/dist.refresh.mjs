// Compiles to dist/ only when a source is newer than the compiled entry points, so `npm run cli`
// costs a compile once after a change instead of 8–16 s on every call. Compiler output goes to
// stderr: stdout stays the CLI's own (e.g. `TOKEN=$(npm run -s cli -- token ...)`).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const SOURCES = ['src', 'bench', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
const OUTPUTS = ['dist/src/cli.js', 'dist/src/main.js'];

function newestMtime(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestMtime(join(path, name))), stats.mtimeMs);
}

function oldestOutput() {
  try {
    return Math.min(...OUTPUTS.map((path) => statSync(path).mtimeMs));
  } catch {
    return -1;
  }
}

if (Math.max(...SOURCES.map(newestMtime)) < oldestOutput()) process.exit(0);

process.stderr.write('compiling to dist/ (sources changed since the last build)\n');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: ['ignore', process.stderr, process.stderr] });
process.exit(result.status ?? 1);
