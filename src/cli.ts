import 'reflect-metadata';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { loadConfig } from './config/config.js';
import { STAFF_ROLES, type StaffRole } from './http/principal.js';
import { isValidId } from './kernel/ids.js';
import { loadOrCreateSecretFile } from './infrastructure/crypto/master-key.js';
import { JWT_SECRET_FILE } from './infrastructure/runtime.factory.js';

const USAGE = `usage:
  npm run cli -- token --sub <id> [--role platform|support|auditor|operator ...] [--ttl 1h]
      mint a bearer token signed with the embedded profile's secret (or AUTH_JWT_SECRET);
      no --role: an end-user token for the user <id>`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'token') return mintToken(rest);
  process.stderr.write(`${USAGE}\n`);
  return command === undefined || command === 'help' || command === '--help' ? 0 : 64;
}

async function mintToken(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { sub: { type: 'string' }, role: { type: 'string', multiple: true }, ttl: { type: 'string', default: '1h' } }, strict: true });
  const roles = values.role ?? [];
  const unknown = roles.filter((r) => !(STAFF_ROLES as readonly string[]).includes(r));
  if (!values.sub || !isValidId(values.sub) || unknown.length > 0 || !/^\d+[smhd]$/.test(values.ttl)) {
    process.stderr.write(`${USAGE}\n`);
    return 64;
  }
  const config = loadConfig();
  if (config.AUTH_JWKS_URL) {
    process.stderr.write('AUTH_JWKS_URL is set: tokens come from your identity provider, not from this CLI\n');
    return 78;
  }
  const secret = config.AUTH_JWT_SECRET ? new TextEncoder().encode(config.AUTH_JWT_SECRET) : loadOrCreateSecretFile(join(config.DATA_DIR, JWT_SECRET_FILE), 32);
  let jwt = new SignJWT({ roles: roles as StaffRole[] }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(values.sub).setIssuedAt().setExpirationTime(values.ttl);
  if (config.AUTH_ISSUER) jwt = jwt.setIssuer(config.AUTH_ISSUER);
  if (config.AUTH_AUDIENCE) jwt = jwt.setAudience(config.AUTH_AUDIENCE);
  process.stdout.write(`${await jwt.sign(secret)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
