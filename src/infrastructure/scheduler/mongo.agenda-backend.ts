import { MongoBackend } from '@agendajs/mongo-backend';
import type { AgendaBackend, JobLogger, JobRepository, NotificationChannel } from 'agenda';
import type { Db, IndexDescription } from 'mongodb';

/** A job created with `unique({ name, 'data.<key>': ... }, { insertOnly: true })`: one per key. */
export interface UniqueJob {
  readonly name: string;
  readonly dataKeys: readonly string[];
}

export class SchedulerStartError extends Error {
  override readonly name = 'SchedulerStartError';
}

/**
 * One unique index per unique job, on exactly the fields its unique() query names and only over
 * that job's documents: the upsert then finds the job through an index instead of scanning every
 * job, and two processes racing to insert the same job cannot both succeed (the loser's insert
 * fails and is retried by its caller, then finds the winner's job).
 */
export function uniqueJobIndexes(jobs: readonly UniqueJob[]): IndexDescription[] {
  return jobs.map((job) => ({
    name: `unique_${job.name}`,
    key: { name: 1, ...Object.fromEntries(job.dataKeys.map((key) => [`data.${key}`, 1 as const])) },
    unique: true,
    partialFilterExpression: { name: job.name },
  }));
}

/**
 * Agenda on MongoDB, connected and indexed before Agenda sees it. Agenda calls `connect()` in its
 * constructor without handling a failure: a failed `createIndex` would be an unhandled rejection
 * (the process dies without our error handling) and `agenda.ready` would never resolve. Here the
 * failure is an awaited SchedulerStartError, and Agenda's own connect() has nothing left to do.
 */
export class MongoAgendaBackend implements AgendaBackend {
  readonly name = 'MongoDB';

  private constructor(private readonly backend: MongoBackend) {}

  static async open(db: Db, collection: string, uniqueJobs: readonly UniqueJob[]): Promise<MongoAgendaBackend> {
    const backend = new MongoBackend({ mongo: db, collection });
    try {
      await backend.connect();
      const indexes = uniqueJobIndexes(uniqueJobs);
      if (indexes.length > 0) await db.collection(collection).createIndexes(indexes);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
      throw new SchedulerStartError(`the scheduler could not prepare its MongoDB collection ${collection} (${reason}); duplicate unique jobs must be removed before the unique indexes can be built`, { cause: error });
    }
    return new MongoAgendaBackend(backend);
  }

  get repository(): JobRepository {
    return this.backend.repository;
  }

  get logger(): JobLogger {
    return this.backend.logger;
  }

  get notificationChannel(): NotificationChannel | undefined {
    return undefined;
  }

  get ownsConnection(): boolean {
    return this.backend.ownsConnection;
  }

  /** Already connected by open(). */
  async connect(): Promise<void> {}

  disconnect(): Promise<void> {
    return this.backend.disconnect();
  }
}
