import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';

/**
 * Counts commits and checkpoint reads, and refuses commits while `failing` is set (as a full disk
 * or a lock timeout would) and checkpoint reads while `failingReads` is.
 */
export class ObservedReadStore extends SqliteReadStore {
  writes = 0;
  failing = false;
  /** Refuses only the commit whose checkpoint is at this position. */
  failingAt: string | null = null;
  checkpointReads = 0;
  failingReads = false;
  override async write(...args: Parameters<SqliteReadStore['write']>): Promise<void> {
    if (this.failing || (this.failingAt !== null && args[1]?.position === this.failingAt)) throw new Error('commit refused');
    this.writes += 1;
    return super.write(...args);
  }
  override async getCheckpoint(name: string): Promise<string | null> {
    this.checkpointReads += 1;
    if (this.failingReads) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    return super.getCheckpoint(name);
  }
}
