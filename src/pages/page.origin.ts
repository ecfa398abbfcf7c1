import type { FastifyRequest } from 'fastify';

/**
 * The post came from one of our pages. Browsers send `Origin: null` for a form posted from a page
 * with `Referrer-Policy: no-referrer` (Fetch, "append a request Origin header"), as ours are; the
 * browser-set `Sec-Fetch-Site` then says whether it was same-origin. An attacker's page gets
 * `cross-site` there, whatever its own referrer policy.
 */
export function isFromOwnPage(request: FastifyRequest, ownOrigin: string): boolean {
  const origin = request.headers.origin;
  if (origin === 'null') return request.headers['sec-fetch-site'] === 'same-origin';
  return origin === ownOrigin || origin === `${request.protocol}://${request.headers.host ?? ''}`;
}
