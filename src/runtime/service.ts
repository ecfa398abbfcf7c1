import type { Type } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Config } from '../config/config.js';
import { createHttpApp, listen } from './http-app.js';
import { buildRuntime, type ProjectionDependencies, type RuntimeOptions } from './runtime.factory.js';
import { reminderSaga } from '../reminders/reminder.saga.js';
import { escalationSaga } from '../organisations/escalation.saga.js';
import { noticeSaga } from '../reminders/notice.saga.js';
import { reminderHistoryProjection } from '../reminders/reminder-history.projection.js';
import { RemindersModule } from '../reminders/reminders.module.js';
import type { Runtime } from './runtime.js';
import { directoryProjection } from '../organisations/directory.projection.js';
import { exemptionExpirySaga } from '../organisations/exemption-expiry.saga.js';
import { OrganisationsModule } from '../organisations/organisations.module.js';
import type { Projection } from '../projections/projection.js';
import { EnforcementModule } from '../enforcement/enforcement.module.js';
import { enforcementProjection } from '../enforcement/enforcement.projection.js';
import { UsersModule } from '../two-factor/users.module.js';
import { resetRequestsProjection } from '../two-factor/reset-requests.projection.js';
import { AuditModule } from '../audit/audit.module.js';
import { PagesModule } from '../pages/pages.module.js';
import { MetricsRegistry } from '../health/metrics.registry.js';
import { startMetricsServer, type MetricsServer } from '../http/metrics.server.js';

export function projections(deps: ProjectionDependencies): readonly Projection[] {
  return [
    directoryProjection,
    enforcementProjection,
    reminderHistoryProjection,
    resetRequestsProjection,
    reminderSaga(deps.reminderJobs, deps.intervals, deps.mailer),
    escalationSaga(deps.escalationJobs),
    exemptionExpirySaga(deps.exemptionJobs),
    noticeSaga(deps.noticeJobs, deps.clock),
  ];
}
const FEATURES: readonly Type[] = [OrganisationsModule, UsersModule, EnforcementModule, RemindersModule, AuditModule, PagesModule];

export interface RunningService {
  readonly runtime: Runtime;
  readonly app: NestFastifyApplication | null;
  /** Base URL when this process serves HTTP (role `api`), else null. */
  readonly url: string | null;
  /** Base URL of the token-less metrics listener when METRICS_PORT is set, else null. */
  readonly metricsUrl: string | null;
  stop(): Promise<void>;
}

/** Starts the roles this process runs; the same function serves `npm start` and every HTTP test. */
export async function startService(config: Config, options: Omit<RuntimeOptions, 'projections'> = {}): Promise<RunningService> {
  const runtime = await buildRuntime(config, { ...options, projections });
  await runtime.start();
  let app: NestFastifyApplication | null = null;
  let url: string | null = null;
  let metrics: MetricsServer | null = null;
  try {
    if (config.ROLES.includes('api')) {
      app = await createHttpApp(runtime, FEATURES);
      url = await listen(app, config.HOST, config.PORT);
      const registry = app.get(MetricsRegistry);
      if (config.METRICS_PORT !== undefined) metrics = await startMetricsServer(() => registry.render(), config.METRICS_HOST, config.METRICS_PORT);
    }
  } catch (error) {
    await app?.close();
    await runtime.close();
    throw error;
  }
  return {
    runtime,
    app,
    url,
    metricsUrl: metrics?.url ?? null,
    async stop() {
      await metrics?.close();
      await app?.close();
      await runtime.close();
    },
  };
}
