import type { CanActivate, ExecutionContext } from '@nestjs/common';
import type { EnforcementClient } from './enforcement.client.js';
import type { EnforcementDecision } from './enforcement.decision.js';
import { enforceRequest, headerValue, type EnforcementOptions } from './request.enforcement.js';

/** What the guard uses of the request on either Nest platform (Express or Fastify). */
export interface NestLikeRequest {
  readonly method: string;
  readonly url: string;
  readonly originalUrl?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  twoFactor?: EnforcementDecision;
}

interface FastifyLikeReply {
  code(status: number): FastifyLikeReply;
  header(name: string, value: string): FastifyLikeReply;
  send(): unknown;
}

interface NodeLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(): unknown;
  locals?: Record<string, unknown>;
}

/**
 * NestJS guard (Express or Fastify platform): lets `allow` through, marks `prompt`
 * (`request.twoFactor`), and answers `redirect` itself with a 303 to the setup hand-off, then
 * refuses the route. Nest's exception layer sees the answer already sent and only ends it; a
 * custom global exception filter must do the same (check `headersSent` / `reply.sent`).
 * Not `@Injectable()` (the SDK has no runtime Nest dependency): provide it with a factory.
 *
 * @example
 * { provide: APP_GUARD, useFactory: () => new EnforcementGuard(client, { getUser: (req) => req.user ?? null }) }
 */
export class EnforcementGuard<Req extends NestLikeRequest = NestLikeRequest> implements CanActivate {
  constructor(
    private readonly client: EnforcementClient,
    private readonly options: EnforcementOptions<Req>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const http = context.switchToHttp();
    const request = http.getRequest<Req>();
    const response = http.getResponse<FastifyLikeReply | NodeLikeResponse>();
    const outcome = await enforceRequest(this.client, this.options, request, {
      method: request.method,
      url: request.originalUrl ?? request.url,
      referer: headerValue(request.headers, 'referer'),
    });
    if (outcome.kind === 'skipped') return true;
    request.twoFactor = outcome.decision;
    if ('locals' in response && response.locals) response.locals['twoFactor'] = outcome.decision;
    if (outcome.kind === 'decided') return true;
    sendRedirect(response, outcome.location);
    return false;
  }
}

function sendRedirect(response: FastifyLikeReply | NodeLikeResponse, location: string): void {
  if ('code' in response && typeof response.code === 'function') {
    response.code(303).header('location', location).header('cache-control', 'no-store').send();
    return;
  }
  const node = response as NodeLikeResponse;
  node.statusCode = 303;
  node.setHeader('Location', location);
  node.setHeader('Cache-Control', 'no-store');
  node.end();
}
