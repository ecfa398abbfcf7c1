import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { EnforcementClient } from './enforcement.client.js';
import type { EnforcementDecision } from './enforcement.decision.js';
import { enforceRequest, headerValue, type EnforcementOptions } from './request.enforcement.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `fastifyEnforcement`: the user's decision, or `null` when the request was not enforced. */
    twoFactor: EnforcementDecision | null;
  }
}

export interface FastifyEnforcementOptions extends EnforcementOptions<FastifyRequest> {
  readonly client: EnforcementClient;
  /** The hook to run in: `onRequest` (default), or `preHandler` when the host's session is read after `onRequest`. */
  readonly hook?: 'onRequest' | 'preHandler';
}

/**
 * Fastify plugin: a hook that lets `allow` through, marks `prompt` (`request.twoFactor`), and
 * answers `redirect` with a 303 to the setup hand-off. It applies to the whole instance it is
 * registered on (not encapsulated), like a plugin wrapped in `fastify-plugin`.
 *
 * @example
 * await app.register(fastifyEnforcement, { client, getUser: (request) => request.session.user ?? null });
 */
export const fastifyEnforcement: FastifyPluginAsync<FastifyEnforcementOptions> = async (instance, options) => {
  const { client, hook = 'onRequest' } = options;
  if (!instance.hasRequestDecorator('twoFactor')) instance.decorateRequest('twoFactor', null);
  instance.addHook(hook, async (request, reply) => {
    const outcome = await enforceRequest(client, options, request, { method: request.method, url: request.url, referer: headerValue(request.headers, 'referer') });
    if (outcome.kind === 'skipped') return;
    request.twoFactor = outcome.decision;
    if (outcome.kind === 'redirect') return reply.code(303).header('location', outcome.location).header('cache-control', 'no-store').send();
  });
};

// What `fastify-plugin` does, without depending on it: the hook reaches the routes of the parent instance.
Object.assign(fastifyEnforcement, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'two-factor-enforcement' });
