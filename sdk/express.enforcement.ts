import type { EnforcementClient } from './enforcement.client.js';
import type { EnforcementDecision } from './enforcement.decision.js';
import { enforceRequest, headerValue, type EnforcementOptions } from './request.enforcement.js';

/** What the middleware uses of an Express request (express itself is not a dependency). */
export interface ExpressLikeRequest {
  readonly method: string;
  readonly url: string;
  /** Express keeps the full target here when the middleware is mounted under a path. */
  readonly originalUrl?: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Set by the middleware: the user's decision (`action` tells the layout whether to render the prompt). */
  twoFactor?: EnforcementDecision;
}

/** What the middleware uses of an Express response (a `node:http` ServerResponse has it too). */
export interface ExpressLikeResponse {
  statusCode: number;
  setHeader(name: string, value: string): unknown;
  end(): unknown;
  /** Express's per-request view locals; the decision is put there as `twoFactor` for templates. */
  locals?: Record<string, unknown>;
}

export type ExpressLikeNext = (error?: unknown) => void;

/**
 * Express (4 or 5) middleware: lets `allow` through, marks `prompt` (`req.twoFactor` and
 * `res.locals.twoFactor`), answers `redirect` with a 303 to the setup hand-off. Service errors
 * (a bad token) go to `next(error)`; outages never do (see {@link EnforcementClient.decide}).
 *
 * @example
 * app.use(expressEnforcement(client, { getUser: (req: Request) => req.session.user ?? null }));
 */
export function expressEnforcement<Req extends ExpressLikeRequest = ExpressLikeRequest>(
  client: EnforcementClient,
  options: EnforcementOptions<Req>,
): (req: Req, res: ExpressLikeResponse, next: ExpressLikeNext) => void {
  return (req, res, next) => {
    enforceRequest(client, options, req, { method: req.method, url: req.originalUrl ?? req.url, referer: headerValue(req.headers, 'referer') }).then((outcome) => {
      if (outcome.kind === 'skipped') return next();
      req.twoFactor = outcome.decision;
      if (res.locals) res.locals['twoFactor'] = outcome.decision;
      if (outcome.kind === 'decided') return next();
      res.statusCode = 303;
      res.setHeader('Location', outcome.location);
      res.setHeader('Cache-Control', 'no-store');
      res.end();
    }, next);
  };
}
