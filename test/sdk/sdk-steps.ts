import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Harness } from '../support/http-harness.js';
import { enableTwoFactor, expectCommandAnswer, registerOrg, registerUser, setMember } from '../http/http-steps.js';

/** Steps of the SDK specs: seed the real service as a host platform would, and serve test doubles of the network on loopback. */

export interface SeededUsers {
  /** In no enforcing organisation. */
  readonly free: string;
  /** Member of a Xero-connected (hence soft) organisation. */
  readonly soft: string;
  readonly softOrg: string;
  /** Member of a hard organisation. */
  readonly hard: string;
  readonly hardOrg: string;
  /** Member of the hard organisation with 2FA enabled. */
  readonly enabled: string;
  /** Position after the last write, for read-your-writes. */
  readonly position: string;
}

export async function seedUsers(h: Harness, platform: string): Promise<SeededUsers> {
  const free = await registerUser(h, platform);
  const soft = await registerUser(h, platform);
  const hard = await registerUser(h, platform);
  const enabled = await registerUser(h, platform);
  const softOrg = await registerOrg(h, platform, 'Xero Ltd');
  const hardOrg = await registerOrg(h, platform, 'Strict Ltd');
  expectCommandAnswer(await setMember(h, platform, softOrg, soft, 'member'));
  expectCommandAnswer(await h.call('PUT', `/v1/organisations/${softOrg}/xero-connection`, { token: platform, body: { tenantId: 'tenant-sdk' } }));
  expectCommandAnswer(await h.call('PUT', `/v1/organisations/${hardOrg}/enforcement`, { token: platform, body: { mode: 'hard' } }));
  expectCommandAnswer(await setMember(h, platform, hardOrg, hard, 'member'));
  expectCommandAnswer(await setMember(h, platform, hardOrg, enabled, 'member'));
  const { position } = await enableTwoFactor(h, platform, enabled);
  // Wait until the read models hold every write above, so the SDK (which sends no minPosition) sees them.
  const settled = await h.call('GET', `/v1/enforcement/${enabled}?minPosition=${position}`, { token: platform });
  expect(settled.status).toBe(200);
  return { free, soft, softOrg, hard, hardOrg, enabled, position };
}

export interface LocalServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<LocalServer & { server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type ProxyMode = 'forward' | 'hang' | 'fail';

/**
 * A stand-in for the network between host and service: forwards to the real service, or
 * never answers (a stalled service), or answers 503.
 */
export async function switchableProxy(target: string): Promise<LocalServer & { mode: ProxyMode }> {
  const state = { mode: 'forward' as ProxyMode };
  const local = await listen((req, res) => {
    if (state.mode === 'hang') return;
    if (state.mode === 'fail') {
      res.writeHead(503, { 'content-type': 'application/problem+json' }).end('{"status":503,"title":"Unavailable"}');
      return;
    }
    void fetch(`${target}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' }).end(await answer.text());
    });
  });
  return {
    url: local.url,
    close: local.close,
    get mode() {
      return state.mode;
    },
    set mode(mode: ProxyMode) {
      state.mode = mode;
    },
  };
}
