import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DomainError, type DomainErrorKind } from '../kernel/domain-error.js';
import { CommandRetriesExhaustedError } from '../application/command-handling.js';
import { InvalidCursorError } from '../ports/read-store.port.js';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.js';
import type { Logger } from '../ports/logger.port.js';

const STATUS_OF: Readonly<Record<DomainErrorKind, number>> = {
  invalid: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  unprocessable: 422,
  locked: 429,
  unavailable: 503,
};

/** Turns anything thrown into problem+json. Unknown errors are logged by name only and answered 500. */
export function toProblem(error: unknown, logger: Logger): Problem {
  if (error instanceof Problem) return error;
  if (error instanceof DomainError) return fromDomainError(error);
  if (error instanceof InvalidCursorError) return new Problem(400, 'invalid_cursor', 'The cursor is not valid for this query.', { errors: [{ field: 'query.cursor', message: 'not a cursor issued by this query' }] });
  if (error instanceof CommandRetriesExhaustedError) return new Problem(409, 'concurrent_modification', 'The resource kept changing; retry the request.');
  if (error instanceof HttpException) return fromHttpException(error);
  const fastifyStatus = fastifyClientErrorStatus(error);
  if (fastifyStatus) return clientError(fastifyStatus);
  logger.error({ err: describeError(error) }, 'unhandled error');
  return new Problem(500, 'internal_error', 'An unexpected error occurred.');
}

function fromDomainError(error: DomainError): Problem {
  const status = STATUS_OF[error.kind];
  const retryAfter = error.details['retryAfterSeconds'];
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) };
  return new Problem(status, error.code, error.message, { headers, ...error.details });
}

function fromHttpException(error: HttpException): Problem {
  const status = error.getStatus();
  if (status === 404) return routeNotFound();
  if (status >= 500) return new Problem(status, 'internal_error', 'An unexpected error occurred.');
  return clientError(status);
}

export function routeNotFound(): Problem {
  return new Problem(404, 'route_not_found', 'No route matches this method and path.');
}

/** Fastify's own client errors (bad JSON, body too large, wrong content type) carry a 4xx statusCode. */
function fastifyClientErrorStatus(error: unknown): number | null {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/** Framework messages may quote the input (a JSON parser's does), so the detail is fixed per status. */
function clientError(status: number): Problem {
  if (status === 413) return new Problem(413, 'invalid_request', 'The request body is too large.');
  if (status === 415) return new Problem(415, 'unsupported_media_type', 'The request body must be JSON, sent with content-type: application/json.');
  return new Problem(status, 'invalid_request', 'The request could not be read (malformed JSON or headers).');
}

/** Logs never get messages of unknown errors verbatim: they may quote input (codes, emails). */
function describeError(error: unknown): { name: string; stack?: string } {
  if (error instanceof Error) return { name: error.name, stack: error.stack?.split('\n').slice(1, 6).join('\n') };
  return { name: typeof error };
}

export function sendProblem(reply: FastifyReply, problem: Problem): void {
  for (const [name, value] of Object.entries(problem.extensions.headers ?? {})) reply.header(name, value);
  reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(problem.body()));
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    sendProblem(host.switchToHttp().getResponse<FastifyReply>(), toProblem(error, this.logger));
  }
}
