import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthGuard } from '../http/auth.guard.js';
import { ProblemFilter } from '../http/problem.filter.js';
import { IdempotencyInterceptor } from '../http/idempotency.interceptor.js';
import { TokenVerifier } from '../http/token-verifier.js';
import { RateLimitGuard } from '../http/rate-limit.guard.js';
import { HealthController } from '../health/health.controller.js';
import { MetricsController } from '../health/metrics.controller.js';
import { MetricsRegistry } from '../health/metrics.registry.js';
import { HotRouteDispatcher } from '../http/hot-route.dispatcher.js';
import type { Runtime } from './runtime.js';
import {
  CLOCK,
  CONFIG,
  EVENT_STORE,
  IDEMPOTENCY_STORE,
  LOGGER,
  PAGES_KEYS,
  PERSONAL_DATA_CIPHER,
  READ_MODEL_CHANGES,
  READ_MODEL_PROGRESS,
  READ_STORE,
  TOKEN_KEY,
} from '../ports/injection.tokens.js';

@Module({})
export class AppModule {
  static register(runtime: Runtime, metrics: MetricsRegistry, features: readonly Type[], hotRoutes: HotRouteDispatcher): DynamicModule {
    const portProviders: Provider[] = [
      { provide: CONFIG, useValue: runtime.config },
      { provide: CLOCK, useValue: runtime.clock },
      { provide: LOGGER, useValue: runtime.logger },
      { provide: EVENT_STORE, useValue: runtime.eventStore },
      { provide: READ_STORE, useValue: runtime.readStore },
      { provide: PERSONAL_DATA_CIPHER, useValue: runtime.cipher },
      { provide: READ_MODEL_PROGRESS, useValue: runtime.progress },
      { provide: READ_MODEL_CHANGES, useValue: runtime.readModelChanges },
      { provide: MetricsRegistry, useValue: metrics },
      { provide: HotRouteDispatcher, useValue: hotRoutes },
      { provide: IDEMPOTENCY_STORE, useValue: runtime.idempotency.store },
      { provide: PAGES_KEYS, useValue: runtime.pagesKeys },
      { provide: TOKEN_KEY, useValue: runtime.tokenKey },
      // Also injectable by class: the pages apply the same per-user limits to their form posts.
      RateLimitGuard,
      { provide: TokenVerifier, useValue: new TokenVerifier({ key: runtime.tokenKey, issuer: runtime.config.AUTH_ISSUER, audience: runtime.config.AUTH_AUDIENCE, maxLifetimeMs: runtime.config.AUTH_MAX_TOKEN_LIFETIME }) },
    ];
    return {
      module: AppModule,
      global: true,
      imports: [CqrsModule.forRoot(), ...features],
      controllers: [HealthController, MetricsController],
      providers: [
        ...portProviders,
        { provide: APP_GUARD, useClass: AuthGuard },
        // After AuthGuard (global guards run in this order): the limiter keys on the caller.
        { provide: APP_GUARD, useExisting: RateLimitGuard },
        { provide: APP_FILTER, useFactory: () => new ProblemFilter(runtime.logger) },
        { provide: APP_INTERCEPTOR, useFactory: () => new IdempotencyInterceptor({ ...runtime.idempotency, clock: runtime.clock, logger: runtime.logger }) },
      ],
      exports: portProviders.map((p) => (typeof p === 'function' ? p : (p as { provide: symbol | Function }).provide)),
    };
  }
}
