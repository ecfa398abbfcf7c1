import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Config } from '../config/config.js';
import type { Clock } from '../kernel/clock.js';
import { CLOCK, CONFIG } from '../ports/injection.tokens.js';
import type { AuthenticatedRequest } from './auth.guard.js';
import { FixedWindowLimiter } from './fixed-window.limiter.js';
import { Problem } from './problem.js';

/** The two-factor commands that store events or check codes: each is its own family. */
export type RateLimitFamily = 'setup' | 'confirm' | 'verify' | 'backup-codes' | 'disable';
const LIMITED_ROUTES: Readonly<Record<string, RateLimitFamily>> = {
  'POST /v1/users/:userId/two-factor/setup': 'setup',
  'POST /v1/users/:userId/two-factor/confirm': 'confirm',
  'POST /v1/users/:userId/two-factor/verify': 'verify',
  'POST /v1/users/:userId/two-factor/backup-codes': 'backup-codes',
  'DELETE /v1/users/:userId/two-factor': 'disable',
};

/**
 * Limits the two-factor commands per client address and per (user in the path, caller, family).
 * A guard runs after authentication and before interceptors, pipes and the handler, so a refused
 * request costs no hashing, no store read and no event. The per-user key includes the caller so
 * that nobody can spend another caller's allowance on a user (and lock them out of it).
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly limiter: FixedWindowLimiter;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.limiter = new FixedWindowLimiter({ windowMs: config.RATE_LIMIT_WINDOW, maxKeys: config.RATE_LIMIT_MAX_KEYS });
  }

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const family = LIMITED_ROUTES[`${request.method} ${request.routeOptions.url}`];
    if (family === undefined) return true;
    const userId = (request.params as Record<string, string | undefined>)['userId'] ?? '';
    this.check(request.ip, family, userId, request.principal?.id ?? `address ${request.ip}`);
    return true;
  }

  /**
   * The same limits for a caller that is not a bearer-token route: the pages, whose session user is
   * both the target and the caller, spend the same allowance as that user's own JSON calls.
   */
  check(clientAddress: string, family: RateLimitFamily, userId: string, callerId: string): void {
    const now = this.clock.now().getTime();
    const client = this.limiter.hit(`client\n${clientAddress}`, this.config.RATE_LIMIT_PER_CLIENT, now);
    if (!client.allowed) throw tooManyRequests(client.retryAfterSeconds);
    const user = this.limiter.hit(`user\n${family}\n${userId}\n${callerId}`, this.config.RATE_LIMIT_PER_USER, now);
    if (!user.allowed) throw tooManyRequests(user.retryAfterSeconds);
  }
}

function tooManyRequests(retryAfterSeconds: number): Problem {
  return new Problem(429, 'rate_limited', `Too many two-factor requests; retry in ${retryAfterSeconds} s.`, {
    retryAfterSeconds,
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
}
