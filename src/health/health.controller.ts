import { Controller, Get, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PublicRoute } from '../http/auth.guard.js';
import { Problem } from '../http/problem.js';
import type { EventStore } from '../ports/event-store.port.js';
import type { ReadStore } from '../ports/read-store.port.js';
import { EVENT_STORE, READ_MODEL_PROGRESS, READ_STORE } from '../ports/injection.tokens.js';
import type { ReadModelProgress } from '../projections/read-model-progress.js';

@PublicRoute()
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly events: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    @Inject(READ_MODEL_PROGRESS) private readonly progress: ReadModelProgress,
  ) {}

  @Get('health/live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Ready only when both stores answer and read models are being maintained. */
  @Get('health/ready')
  async ready(): Promise<{ status: 'ok'; checks: Record<string, boolean> }> {
    const checks = {
      eventStore: await this.events.ping().catch(() => false),
      readStore: await this.readStore.ping().catch(() => false),
      projections: this.progress.isRunning(),
    };
    if (Object.values(checks).every(Boolean)) return { status: 'ok', checks };
    throw new Problem(503, 'not_ready', 'The service is not ready.', { checks });
  }
}
