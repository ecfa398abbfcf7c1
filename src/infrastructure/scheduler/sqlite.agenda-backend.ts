import type { AgendaBackend } from 'agenda';
import type { SqliteDatabase } from '../sqlite/sqlite.database.js';
import { SqliteJobRepository } from './sqlite.job-repository.js';

/**
 * Agenda backend for the embedded profile: storage only, so Agenda polls (`processEvery`).
 * The connection is shared with the read store (the derived-data file), so Agenda must never close it:
 * `ownsConnection` is false and `disconnect` leaves it open.
 */
export class SqliteAgendaBackend implements AgendaBackend {
  readonly name = 'SQLite';
  readonly ownsConnection = false;
  readonly repository: SqliteJobRepository;

  /** `guard` wraps the repository (the embedded profile maps storage failures with it). */
  constructor(db: SqliteDatabase, indexedDataPaths: readonly string[] = [], guard: (repository: SqliteJobRepository) => SqliteJobRepository = (repository) => repository) {
    this.repository = guard(new SqliteJobRepository(db, indexedDataPaths));
  }

  connect(): Promise<void> {
    return this.repository.connect();
  }

  async disconnect(): Promise<void> {}
}
