import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/**
 * An SMTP sink on loopback that accepts everything, in its own process so that the reminder
 * benchmark's memory figure is the service's alone. Prints its port once, then the number of
 * distinct recipients accepted so far whenever a line arrives on stdin.
 */
const recipients = new Set<string>();
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  disableReverseLookup: true,
  logger: false,
  maxClients: 1_000,
  onData(stream, session, callback) {
    stream.on('data', () => undefined);
    stream.on('end', () => {
      for (const r of session.envelope.rcptTo) recipients.add(r.address);
      callback(null);
    });
  },
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.server.address() as AddressInfo).port}\n`));
process.stdin.setEncoding('utf8');
process.stdin.on('data', () => process.stdout.write(`${recipients.size}\n`));
process.stdin.on('end', () => server.close(() => process.exit(0)));
