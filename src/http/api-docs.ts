import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * Swagger UI served from swagger-ui-dist by an explicit allow-list of files, instead of
 * @fastify/static: fewer moving parts at the edge, and no path from the URL reaches the filesystem.
 */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Two-factor enforcement API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="/docs/assets/init.js"></script></body></html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/docs/openapi.json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });`;

export function mountSwaggerUi(fastify: FastifyInstance): void {
  const root = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(join(root, name)) }]));
  fastify.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(PAGE));
  fastify.get('/docs/assets/init.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(INIT));
  fastify.get<{ Params: { file: string } }>('/docs/assets/:file', async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file) return reply.status(404).type('application/problem+json').send({ type: 'urn:two-factor:problem:route_not_found', title: 'Not Found', status: 404, detail: 'No such documentation asset.', code: 'route_not_found' });
    return reply.type(file.type).header('cache-control', 'public, max-age=3600').send(file.body);
  });
}
