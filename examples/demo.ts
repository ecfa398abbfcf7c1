import 'reflect-metadata';
import { resolve } from 'node:path';
import { ConfigError } from '../src/config/config.js';
import { DEMO_STAFF, DEMO_USERS } from './demo-host/demo-directory.js';
import { startDemoStack } from './demo-stack.js';

/**
 * `npm run demo`: the service on the embedded profile, the demo host beside it, seeded data,
 * and the URL to open. Data lives in ./data-demo (DATA_DIR overrides it), so a restart keeps
 * the people, their factors and the printed key.
 */
async function main(): Promise<void> {
  const dataDir = resolve(process.env['DATA_DIR'] || './data-demo');
  const port = Number(process.env['PORT'] || 3000);
  const demoPort = Number(process.env['DEMO_PORT'] || 3001);
  const stack = await startDemoStack({ dataDir, port, demoPort, hostname: 'localhost', env: process.env });
  const lines = [
    '',
    `  Two-factor service  ${stack.serviceUrl}   (data in ${dataDir})`,
    `  Demo host           ${stack.demoUrl}`,
    '',
    `  Open ${stack.demoUrl} and sign in as:`,
    ...DEMO_USERS.map((user) => `    ${user.name.padEnd(14)} ${user.story}`),
    '',
    `  The console (${stack.serviceUrl}/console), through a hand-off from the demo host:`,
    `    Org admin      sign in as Ada Admin, then Settings → "Open the organisation console"`,
    ...DEMO_STAFF.map((staff) => `    ${staff.name.padEnd(14)} on ${stack.demoUrl}/sign-in, "Open the console as ${staff.name}" (${staff.roles.join(', ')})`),
    '',
    ...Object.entries(stack.secrets.enrolledKeys).map(
      ([userId, key]) => `  ${userId}'s authenticator key (add it to an authenticator app to sign in as them): ${key.replace(/(.{4})/g, '$1 ').trim()}`,
    ),
    '',
    '  Ctrl-C stops both.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('stopping the demo...\n');
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError ? error.message : `demo failed to start: ${error instanceof Error ? error.message : String(error)}`}\n`);
  process.exit(1);
});
