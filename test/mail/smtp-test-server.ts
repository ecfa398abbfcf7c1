import { SMTPServer } from 'smtp-server';
import type { SMTPServerAddress } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
}

/** A reply the server gives instead of accepting; `message` may echo what the client sent. */
export interface SmtpRefusal {
  readonly responseCode: number;
  readonly message: string;
}

export interface SmtpBehaviour {
  /** Called per DATA (1-based attempt) with the raw message; a refusal rejects that message. */
  readonly refuseData?: (attempt: number, raw: string) => SmtpRefusal | null;
  readonly refuseRecipient?: (address: string) => SmtpRefusal | null;
}

/** A real SMTP server (the `smtp-server` package) on loopback, recording what it accepted. */
export class SmtpTestServer {
  readonly received: ReceivedMail[] = [];
  dataAttempts = 0;
  /** SMTP sessions opened so far (each a TCP connection). */
  connections = 0;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** `port` 0 picks a free one; a given port brings a server back where a stopped one was. */
  static async start(behaviour: SmtpBehaviour = {}, port = 0): Promise<SmtpTestServer> {
    let self: SmtpTestServer | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 1_000,
      onConnect(_session, callback) {
        (self as SmtpTestServer).connections += 1;
        callback();
      },
      onRcptTo(address: SMTPServerAddress, _session, callback) {
        const refusal = behaviour.refuseRecipient?.(address.address) ?? null;
        callback(refusal ? refusalError(refusal) : null);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const owner = self as SmtpTestServer;
          owner.dataAttempts += 1;
          const refusal = behaviour.refuseData?.(owner.dataAttempts, raw) ?? null;
          if (refusal) return callback(refusalError(refusal));
          const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
          owner.received.push({ from, to: session.envelope.rcptTo.map((r) => r.address), raw });
          callback(null);
        });
      },
    });
    server.on('error', () => undefined);
    const bound = await new Promise<number>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
    });
    self = new SmtpTestServer(server, bound);
    return self;
  }

  /** SMTP sessions open right now. */
  get openConnections(): number {
    return this.server.connections.size;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function refusalError(refusal: SmtpRefusal): Error {
  return Object.assign(new Error(refusal.message), { responseCode: refusal.responseCode });
}

/** A loopback port nothing listens on: bound by the OS, then released. */
export async function closedLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
