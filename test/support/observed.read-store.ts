import { SqliteReadStore } from '../../src/infrastructure/read-store/sqlite.read-store.js';

/** Counts commits, and refuses them while `failing` is set, as a full disk or a lock timeout would. */
export class ObservedReadStore extends SqliteReadStore {
  writes = 0;
  failing = false;
  /** Refuses only the commit whose checkpoint is at this position. */
  failingAt: string | null = null;
  override async write(...args: Parameters<SqliteReadStore['write']>): Promise<void> {
    if (this.failing || (this.failingAt !== null && args[1]?.position === this.failingAt)) throw new Error('commit refused');
    this.writes += 1;
    return super.write(...args);
  }
}
