import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config/config.js';
import type { Clock } from '../src/kernel/clock.js';
import { startService, type RunningService } from '../src/runtime/service.js';
import { buildDemoHost } from './demo-host/demo-host.app.js';
import { seedDemo } from './demo-seed.js';

/**
 * The service and the demo host side by side in one process: what `npm run demo` runs and what
 * the browser tests drive. Only this launcher touches the service's code; the host sees the
 * service through the SDK and HTTP alone.
 */
export interface DemoStackOptions {
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly demoPort: number;
  /** The host name the browser uses for both (cookies and origins are checked against it). */
  readonly hostname?: string;
  readonly clock?: Clock;
  /** Extra service configuration (LOG_LEVEL, ...); the stack's own settings win. */
  readonly env?: Record<string, string | undefined>;
  readonly logDestination?: NodeJS.WritableStream;
}

export interface DemoStack {
  readonly serviceUrl: string;
  readonly demoUrl: string;
  readonly service: RunningService;
  readonly host: FastifyInstance;
  readonly secrets: DemoSecrets;
  /** Backup codes of the users this start enrolled (none on a restart). */
  readonly backupCodes: Readonly<Record<string, readonly string[]>>;
  /** A fresh platform token, for tests and tools that talk to the API. */
  platformToken(): Promise<string>;
  stop(): Promise<void>;
}

interface DemoSecrets {
  readonly authJwtSecret: string;
  readonly sessionKey: string;
  enrolledKeys: Record<string, string>;
}

const SECRETS_FILE = 'demo-secrets.json';

export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const hostname = options.hostname ?? '127.0.0.1';
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const secrets = loadSecrets(options.dataDir);
  // Both ports are known before either starts: the service must know the demo's origin.
  const port = options.port === 0 ? await freePort() : options.port;
  const demoPort = options.demoPort === 0 ? await freePort() : options.demoPort;
  const serviceUrl = `http://${hostname}:${port}`;
  const demoUrl = `http://${hostname}:${demoPort}`;
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    // The pages wear the host's name and colour, as a real host would configure them.
    PRODUCT_NAME: 'Approvals demo',
    BRAND_COLOR: '#1d4ed8',
    ...options.env,
    PROFILE: 'embedded',
    DATA_DIR: options.dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    AUTH_JWT_SECRET: secrets.authJwtSecret,
    APP_BASE_URL: serviceUrl,
    PAGES_RETURN_ORIGINS: demoUrl,
  });
  const service = await startService(config, { ...(options.clock ? { clock: options.clock } : {}), ...(options.logDestination ? { logDestination: options.logDestination } : {}) });
  const platformToken = () =>
    new SignJWT({ roles: ['platform', 'support'] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject('demo-host').setIssuedAt().setExpirationTime('12h').sign(new TextEncoder().encode(secrets.authJwtSecret));
  let host: FastifyInstance | null = null;
  let backupCodes: Readonly<Record<string, readonly string[]>> = {};
  try {
    const apiBaseUrl = `http://127.0.0.1:${port}`;
    const now = () => options.clock?.now() ?? new Date();
    const seeded = await seedDemo({ apiBaseUrl, platformToken: await platformToken(), now, knownKeys: secrets.enrolledKeys });
    secrets.enrolledKeys = seeded.enrolledKeys;
    backupCodes = seeded.backupCodes;
    saveSecrets(options.dataDir, secrets);
    host = await buildDemoHost({
      serviceBaseUrl: serviceUrl,
      apiBaseUrl,
      publicOrigin: demoUrl,
      platformToken: cachedToken(platformToken),
      handoffSecret: secrets.authJwtSecret,
      assertion: { secret: secrets.authJwtSecret },
      sessionKey: Buffer.from(secrets.sessionKey, 'base64url'),
    });
    await host.listen({ host: '127.0.0.1', port: demoPort });
  } catch (error) {
    await host?.close();
    await service.stop();
    throw error;
  }
  const running = host;
  let stopped: Promise<void> | null = null;
  return {
    serviceUrl,
    demoUrl,
    service,
    host: running,
    secrets,
    backupCodes,
    platformToken,
    stop: () =>
      (stopped ??= (async () => {
        await running.close();
        await service.stop();
      })()),
  };
}

/**
 * Generated on the first run and kept in the data directory (0600), so a restart finds the same
 * signing key, host sessions and the enrolled demo user's key. Demo data only: a real host keeps
 * its keys in a secret store and never holds a user's TOTP key.
 */
function loadSecrets(dataDir: string): DemoSecrets {
  const path = join(dataDir, SECRETS_FILE);
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as DemoSecrets;
  const secrets: DemoSecrets = { authJwtSecret: randomBytes(32).toString('base64url'), sessionKey: randomBytes(32).toString('base64url'), enrolledKeys: {} };
  saveSecrets(dataDir, secrets);
  return secrets;
}

function saveSecrets(dataDir: string, secrets: DemoSecrets): void {
  writeFileSync(join(dataDir, SECRETS_FILE), `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
}

/** A fresh platform token every few hours: the demo may run for days, tokens live twelve hours. */
function cachedToken(mint: () => Promise<string>): () => Promise<string> {
  let current: { token: Promise<string>; until: number } | null = null;
  return () => {
    if (!current || current.until < Date.now()) current = { token: mint(), until: Date.now() + 6 * 3_600_000 };
    return current.token;
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}
