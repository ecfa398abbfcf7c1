import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, Problem } from './problem.js';
import { sendProblem } from './problem.filter.js';

/**
 * Errors Fastify answers before any route runs. Its defaults are plain JSON that quote the URL
 * back, and a URL may carry ids or tokens someone pasted by mistake: these answers never do.
 */
export function onFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    sendProblem(reply, new Problem(414, 'uri_too_long', 'A segment of the request path is too long.'));
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    sendProblem(reply, new Problem(400, 'invalid_url', 'The request path is not validly percent-encoded.'));
    return;
  }
  sendProblem(reply, new Problem(400, 'invalid_request', 'The request could not be routed.'));
}

/** Errors of the HTTP parser itself (headers too large, timeouts): answered on the raw socket. */
export function onClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const detail = status === 431 ? 'The request headers (or the URL) are too large.' : status === 408 ? 'The request took too long to arrive.' : 'The request is not valid HTTP.';
  const body = JSON.stringify(new Problem(status, 'invalid_request', detail).body());
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * Bodies are JSON only. Fastify also parses text/plain, which then reaches validation as a string
 * (and form bodies, as Nest adds them, arrive as one odd key): both are answered 415 instead.
 * The one exception is HTML forms posted to paths under one of `formPrefixes` (the pages, the console): parsed into a
 * plain object of strings (a repeated field keeps its last value).
 */
export function acceptJsonBodiesOnly(fastify: FastifyInstance, formPrefixes: readonly string[] = []): void {
  for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
    if (fastify.hasContentTypeParser(type)) fastify.removeContentTypeParser(type);
  }
  if (formPrefixes.length === 0) return;
  fastify.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (request, body, done) => {
    if (!formPrefixes.some((prefix) => request.url.startsWith(prefix))) {
      done(Object.assign(new Error('form bodies are accepted by the pages only'), { statusCode: 415 }), undefined);
      return;
    }
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}
