import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EventStore } from '../ports/event-store.port.js';
import { EVENT_STORE } from '../ports/injection.tokens.js';
import { verifyStore } from '../audit/integrity.scan.js';
import type { IntegrityJobView } from './console.views.js';

interface Job extends IntegrityJobView {
  readonly owner: string;
  readonly startedAt: number;
}

const MAX_JOBS = 20;
const KEEP_MS = 60 * 60 * 1000;

/**
 * Integrity checks of the whole store started from the console. They run in this process after
 * the request answered, so the browser can follow them on a page that refreshes itself (no
 * JavaScript needed). A job is seen only by the session that started it, and forgotten after an
 * hour or when newer ones push it out: they are progress reports, the audit trail keeps nothing of them.
 */
@Injectable()
export class IntegrityJobs {
  private readonly jobs = new Map<string, Job>();

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  start(owner: string, now: number): string {
    this.prune(now);
    const id = randomBytes(16).toString('base64url');
    this.jobs.set(id, { owner, startedAt: now, state: 'running', eventsChecked: 0, streams: 0, broken: [] });
    void this.run(id);
    return id;
  }

  find(id: string, owner: string): IntegrityJobView | null {
    const job = this.jobs.get(id);
    return job && job.owner === owner ? job : null;
  }

  private async run(id: string): Promise<void> {
    const update = (change: Partial<Job>): void => {
      const job = this.jobs.get(id);
      if (job) this.jobs.set(id, { ...job, ...change });
    };
    try {
      const broken: Array<IntegrityJobView['broken'][number]> = [];
      for await (const step of verifyStore(this.store)) {
        if (step.type === 'progress') update({ eventsChecked: step.eventsChecked });
        else if (step.type === 'broken') broken.push({ stream: step.stream, revision: step.revision, reason: step.reason });
        else update({ state: 'done', eventsChecked: step.eventsChecked, streams: step.streamsChecked, broken: [...broken] });
      }
    } catch {
      update({ state: 'failed' });
    }
  }

  private prune(now: number): void {
    for (const [id, job] of this.jobs) if (now - job.startedAt > KEEP_MS) this.jobs.delete(id);
    while (this.jobs.size >= MAX_JOBS) this.jobs.delete(this.jobs.keys().next().value!);
  }
}
