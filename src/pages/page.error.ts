import { DomainError } from '../kernel/domain-error.js';
import { STRINGS as S } from './pages.strings.js';
import { HandoffRefused } from './handoff.verifier.js';

/** A refusal the pages answer with their HTML error page. */
export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(
    readonly status: number,
    readonly userMessage: string,
    /** Where "Back" leads: an allowed origin only, else no link at all. */
    readonly backUrl: string | null = null,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`page refused: ${status}`);
  }
}

/** Any refusal as the page to show; null for an unexpected error (then a generic 500 page, logged). */
export function asPageError(error: unknown, backUrl: string | null): PageError | null {
  if (error instanceof PageError) return error;
  if (error instanceof HandoffRefused) {
    if (error.reason === 'expired') return new PageError(401, S.errors.expired, error.returnOrigin);
    if (error.reason === 'return_to') return new PageError(403, S.errors.returnTo, error.returnOrigin);
    return new PageError(401, S.errors.invalid, error.returnOrigin);
  }
  if (error instanceof DomainError) return fromDomainError(error, backUrl);
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return new PageError(status === 404 ? 404 : status, status === 404 ? S.errors.notFound : S.errors.generic, backUrl);
  return null;
}

function fromDomainError(error: DomainError, backUrl: string | null): PageError {
  const retryAfter = Number(error.details['retryAfterSeconds'] ?? 0);
  switch (error.kind) {
    case 'not_found':
      return new PageError(404, S.errors.userUnknown, backUrl);
    case 'gone':
      return new PageError(410, S.errors.userForgotten, backUrl);
    case 'forbidden':
      return new PageError(403, S.errors.generic, backUrl);
    case 'locked':
      return new PageError(429, S.errors.rateLimited(retryAfter), backUrl, { 'retry-after': String(retryAfter) });
    case 'unavailable':
      return new PageError(503, S.errors.unavailable, backUrl);
    default:
      return new PageError(error.kind === 'conflict' ? 409 : error.kind === 'unprocessable' ? 422 : 400, S.errors.generic, backUrl);
  }
}
