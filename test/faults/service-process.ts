import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { SignJWT } from 'jose';
import { assertConforms, OpenApiValidator } from '../support/openapi-validator.js';

/**
 * The service as an operator runs it: `node dist/src/main.js`, a real process on an ephemeral
 * loopback port with its own DATA_DIR, so that it can be killed with SIGKILL, disk-starved or
 * restarted like the real thing. Every answer is checked against the OpenAPI document it serves.
 */

export const PROCESS_JWT_SECRET = 'fault-tests-secret-0123456789abcdef-0123456789';
const START_TIMEOUT_MS = 60_000;

export interface ProcessAnswer<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface ServiceProcess {
  readonly pid: number;
  readonly url: string;
  token(sub: string, ...roles: string[]): Promise<string>;
  call<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ProcessAnswer<T>>;
  /** SIGKILL: no shutdown hook runs, nothing is flushed. Resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM, the orderly stop. */
  stop(): Promise<void>;
  /** Everything the process wrote on stdout and stderr so far. */
  output(): string;
}

export interface ServiceProcessOptions {
  readonly dataDir: string;
  readonly env?: Record<string, string>;
  /**
   * Runs the service through this command (argv prefix), e.g. `unshare` to give it a mount
   * namespace of its own. The service's argv is appended.
   */
  readonly wrapper?: readonly string[];
}

/** Compiles dist/ when a source changed (the same script as `npm run cli`); bounded in time. */
export function buildDist(): void {
  const built = spawnSync(process.execPath, ['scripts/dist.refresh.mjs'], { encoding: 'utf8', timeout: 240_000 });
  if (built.status !== 0) throw new Error(`build failed: ${built.stderr}`);
}

/** The environment of the test runner without anything that would change the service's profile or keys. */
function cleanEnvironment(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !/^(AUTH_|MASTER_KEY|PROFILE|ROLES|SMTP_URL|EVENTSTORE_|MONGODB_|PORT|HOST|METRICS_)/.test(entry[0])),
  );
}

export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const env = {
    ...cleanEnvironment(),
    DATA_DIR: options.dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: PROCESS_JWT_SECRET,
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_USER: '1000000',
    RATE_LIMIT_PER_CLIENT: '1000000',
    ...options.env,
  };
  const argv = [...(options.wrapper ?? []), process.execPath, 'dist/src/main.js'];
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = await serviceUrl(child, (line) => (output += `${line}\n`));
  const validator = fetch(`${url}/docs/openapi.json`).then(async (response) => validatorFor(await response.text()));
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return {
    pid: child.pid!,
    url,
    token: (sub, ...roles) =>
      new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(PROCESS_JWT_SECRET)),
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.token) headers['authorization'] = `Bearer ${callOptions.token}`;
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, ...(callOptions.body !== undefined ? { body: JSON.stringify(callOptions.body) } : {}) });
      const text = await response.text();
      // NDJSON, metrics and pages stay text; a one-line NDJSON answer would otherwise parse as JSON.
      const json = /^application\/(?:[\w.+-]+\+)?json/.test(response.headers.get('content-type') ?? '');
      const body: unknown = json && text ? JSON.parse(text) : text || null;
      assertConforms(await validator, { method, path, status: response.status, headers: response.headers, body });
      return { status: response.status, headers: response.headers, body: body as never };
    },
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    output: () => output,
  };
}

/** One validator per document, kept across restarts: compiling its schemas again each time would slow the load. */
const validators = new Map<string, OpenApiValidator>();
function validatorFor(document: string): OpenApiValidator {
  let validator = validators.get(document);
  if (!validator) validators.set(document, (validator = new OpenApiValidator(JSON.parse(document) as Record<string, unknown>)));
  return validator;
}

/** Reads the log until "service started" names the URL; fails with the output if the process dies first. */
async function serviceUrl(child: ChildProcess, record: (line: string) => void): Promise<string> {
  const lines = createInterface({ input: child.stdout! });
  let seen = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`no "service started" within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}:\n${seen.slice(-4000)}`));
    };
    const onExit = (code: number | null, signal: string | null): void => fail(`service exited (${code ?? signal}) before it started`);
    child.once('exit', onExit);
    lines.on('line', (line) => {
      record(line);
      seen += `${line}\n`;
      const parsed = parseLogLine(line);
      if (parsed?.msg === 'service started' && typeof parsed.url === 'string') {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(parsed.url);
      }
    });
  });
}

function parseLogLine(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Bounded wait for a condition; fails with a message rather than hanging. Never asserts duration. */
export async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
