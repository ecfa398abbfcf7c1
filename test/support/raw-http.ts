import http from 'node:http';
import net from 'node:net';

/**
 * Requests sent byte for byte as given, which fetch cannot do: fetch normalises `..` segments,
 * percent-encodes the path and always frames the body. Used by the fuzz spec only.
 */
export interface RawRequest {
  readonly method: string;
  /** Sent as is: only characters U+0021–U+00FF (Node refuses others in a request line). */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface RawResponse {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

// One connection per request: a refused request whose body the server did not read must not
// become the start of the next request on a kept-alive socket.
const agent = new http.Agent({ keepAlive: false, maxSockets: 4 });

export function rawRequest(baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      // An explicit length frames a body on every method; without it Node sends a GET's body unframed.
      { agent, host: hostname, port: Number(port), method: request.method, path: request.path, headers: { ...request.headers, ...framing(request.body) }, timeout: 15_000 },
      (response) => {
        // A stream never ends by itself: its status line and headers are the answer.
        if (String(response.headers['content-type'] ?? '').startsWith('text/event-stream')) {
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']), text: '' });
          response.destroy();
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within 15 s: ${request.method} ${request.path.slice(0, 200)}`)));
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

function framing(body: string | Buffer | undefined): Record<string, string> {
  return body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
}

/**
 * A request line with bytes no HTTP client library will send (control characters, bare spaces):
 * written on a plain socket, with `Connection: close`, and the answer read until the server closes.
 */
export function rawSocketRequest(baseUrl: string, requestLine: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  const head = [requestLine, `Host: ${hostname}:${port}`, 'Connection: close', ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`), '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    socket.setTimeout(15_000, () => socket.destroy(new Error('no answer within 15 s')));
    socket.on('connect', () => socket.write(Buffer.from(head, 'latin1')));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const headLines = (end === -1 ? text : text.slice(0, end)).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(headLines[0] ?? '')?.[1] ?? 0);
  const headers = new Map(headLines.slice(1).map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  const payload = end === -1 ? Buffer.alloc(0) : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  const body = headers.get('transfer-encoding') === 'chunked' ? dechunk(payload) : payload;
  return { status, contentType: headers.get('content-type') ?? '', text: body.toString('utf8') };
}

function dechunk(payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = payload.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = parseInt(payload.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(payload.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

export function closeRawAgent(): void {
  agent.destroy();
}
