import { join } from 'node:path';
import type { Config } from '../config/config.js';
import { SystemClock, type Clock } from '../kernel/clock.js';
import type { TokenKey } from '../http/token-verifier.js';
import type { Projection } from '../projections/projection.js';
import { ProjectionRunner } from '../projections/projection.runner.js';
import { CheckpointProgress, type ReadModelProgress } from '../projections/read-model-progress.js';
import { loadOrCreateSecretFile, resolveMasterKey } from './crypto/master-key.js';
import { PersonalDataCipher } from './crypto/personal-data.cipher.js';
import type { KeyStore } from './crypto/key-store.port.js';
import type { EventStore } from './event-store/event-store.port.js';
import type { ReadStore } from './read-store/read-store.port.js';
import { createLogger } from './logging/logger.js';
import type { Runtime } from './runtime.js';

export interface RuntimeOptions {
  readonly projections: readonly Projection[];
  readonly clock?: Clock;
  readonly logDestination?: NodeJS.WritableStream;
}

/** The stores a profile provides; everything above them is the same code on every profile. */
export interface ProfileStores {
  readonly eventStore: EventStore;
  readonly readStore: ReadStore;
  readonly keyStore: KeyStore;
  close(): Promise<void>;
}

export const JWT_SECRET_FILE = 'jwt.secret';
export const MASTER_KEY_FILE = 'master.key';
export const DATABASE_FILE = 'two-factor.sqlite';

export async function buildRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const logger = createLogger(config.LOG_LEVEL, options.logDestination);
  const clock = options.clock ?? new SystemClock();
  const stores = config.PROFILE === 'embedded' ? await embeddedStores(config) : await productionStores(config);
  const masterKey = resolveMasterKey(config.MASTER_KEY, join(config.DATA_DIR, MASTER_KEY_FILE));
  const cipher = new PersonalDataCipher(stores.keyStore, masterKey, { clock });
  const runsProjector = config.ROLES.includes('projector');
  const runner = runsProjector ? new ProjectionRunner(stores.eventStore, stores.readStore, options.projections, logger) : null;
  const progress: ReadModelProgress = runner ?? new CheckpointProgress(stores.readStore, options.projections.map((p) => p.name));
  return {
    config,
    clock,
    logger,
    eventStore: stores.eventStore,
    readStore: stores.readStore,
    cipher,
    progress,
    tokenKey: tokenKey(config),
    async start() {
      await runner?.start();
    },
    async close() {
      await runner?.stop();
      await stores.close();
    },
  };
}

function tokenKey(config: Config): TokenKey {
  if (config.AUTH_JWKS_URL) return { kind: 'jwks', url: config.AUTH_JWKS_URL };
  if (config.AUTH_JWT_SECRET) return { kind: 'secret', secret: new TextEncoder().encode(config.AUTH_JWT_SECRET) };
  return { kind: 'secret', secret: loadOrCreateSecretFile(join(config.DATA_DIR, JWT_SECRET_FILE), 32) };
}

async function embeddedStores(config: Config): Promise<ProfileStores> {
  const { openSqlite } = await import('./sqlite/sqlite.database.js');
  const { SqliteEventStore } = await import('./event-store/sqlite.event-store.js');
  const { SqliteReadStore } = await import('./read-store/sqlite.read-store.js');
  const { SqliteKeyStore } = await import('./crypto/sqlite.key-store.js');
  const db = openSqlite(join(config.DATA_DIR, DATABASE_FILE));
  const eventStore = new SqliteEventStore(db);
  const readStore = new SqliteReadStore(db);
  const keyStore = new SqliteKeyStore(db);
  return {
    eventStore,
    readStore,
    keyStore,
    async close() {
      await eventStore.close();
      await readStore.close();
      await keyStore.close();
      db.close();
    },
  };
}

async function productionStores(config: Config): Promise<ProfileStores> {
  const { productionProfileStores } = await import('./production.stores.js');
  return productionProfileStores(config);
}

