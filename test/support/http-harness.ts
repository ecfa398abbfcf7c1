import 'reflect-metadata';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { loadConfig } from '../../src/config/config.js';
import { FakeClock } from '../../src/kernel/clock.js';
import { startService, type RunningService } from '../../src/runtime/service.js';
import { makeTempDir } from './temp-dir.js';
import { assertConforms, OpenApiValidator } from './openapi-validator.js';

export const TEST_JWT_SECRET = 'test-secret-for-http-specs-only-0123456789abcdef';

/** For specs that send bursts on purpose (races, concurrency): the rate limits, tested in rate-limits.spec.ts, out of their way. */
export const BURST_ENV: Readonly<Record<string, string>> = { RATE_LIMIT_PER_USER: '1000', RATE_LIMIT_PER_CLIENT: '100000' };

export interface JsonResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface Harness {
  readonly url: string;
  readonly service: RunningService;
  readonly clock: FakeClock;
  readonly dataDir: string;
  /** Everything the service logged, for scans that prove no secret was written. */
  logs(): string;
  token(sub: string, ...roles: string[]): Promise<string>;
  call<T = any>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<JsonResponse<T>>;
  /**
   * GET that leaves a `text/event-stream` answer open for the caller to read (its status and
   * headers are checked against the document); any other answer is read and checked as by `call`.
   */
  openStream(path: string, options?: { token?: string; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response>;
  /** Stops the service but keeps its data directory (for restart tests). */
  stop(): Promise<void>;
  /** Stops the service and removes its data directory. */
  dispose(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  readonly clock?: FakeClock;
  /** Reuse the data directory of an earlier harness (restart tests). */
  readonly dataDir?: string;
}

/** The real service on 127.0.0.1 with a real SQLite file in a temp directory; only time is fake. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const temp = options.dataDir ? null : makeTempDir('tfe-http-');
  const dataDir = options.dataDir ?? temp!.path;
  const clock = options.clock ?? new FakeClock(new Date());
  let captured = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      captured += chunk.toString();
      done();
    },
  });
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    LOG_LEVEL: 'info',
    READ_YOUR_WRITES_TIMEOUT_MS: '3000',
    ...options.env,
  });
  const service = await startService(config, { clock, logDestination: sink });
  const url = service.url!;
  let validator: Promise<OpenApiValidator> | null = null;
  // Fetched once, from the service itself: what is served is what the answers are checked against.
  const documented = (): Promise<OpenApiValidator> =>
    (validator ??= fetch(`${url}/docs/openapi.json`).then(async (response) => new OpenApiValidator((await response.json()) as Record<string, unknown>)));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await service.stop();
  };
  return {
    url,
    service,
    clock,
    dataDir,
    logs: () => captured,
    token: (sub, ...roles) =>
      new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('1h').sign(new TextEncoder().encode(TEST_JWT_SECRET)),
    async call(method, path, callOptions = {}) {
      const headers: Record<string, string> = { ...callOptions.headers };
      if (callOptions.token) headers['authorization'] = `Bearer ${callOptions.token}`;
      if (callOptions.body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${url}${path}`, { method, headers, ...(callOptions.body !== undefined ? { body: JSON.stringify(callOptions.body) } : {}) });
      if (isEventStream(response)) {
        // A stream never ends by itself: its opening is what can be checked, then it is let go.
        await response.body?.cancel();
        assertConforms(await documented(), { method, path, status: response.status, headers: response.headers, body: null });
        return { status: response.status, headers: response.headers, body: null as never };
      }
      const text = await response.text();
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        // Non-JSON bodies (metrics, docs) are returned as text.
      }
      assertConforms(await documented(), { method, path, status: response.status, headers: response.headers, body });
      return { status: response.status, headers: response.headers, body: body as never };
    },
    async openStream(path, streamOptions = {}) {
      const headers: Record<string, string> = { ...streamOptions.headers };
      if (streamOptions.token) headers['authorization'] = `Bearer ${streamOptions.token}`;
      const response = await fetch(`${url}${path}`, { headers, ...(streamOptions.signal ? { signal: streamOptions.signal } : {}) });
      if (isEventStream(response)) {
        assertConforms(await documented(), { method: 'GET', path, status: response.status, headers: response.headers, body: null });
        return response;
      }
      const text = await response.text();
      assertConforms(await documented(), { method: 'GET', path, status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null });
      return new Response(text, { status: response.status, headers: response.headers });
    },
    stop,
    async dispose() {
      await stop();
      temp?.remove();
    },
  };
}

function isEventStream(response: Response): boolean {
  return (response.headers.get('content-type') ?? '').startsWith('text/event-stream');
}
