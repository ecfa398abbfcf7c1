import { randomBytes, randomInt, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export const BACKUP_CODE_COUNT = 10;
export const BACKUP_CODE_DIGITS = 8;

const CODE_PATTERN = new RegExp(`^\\d{${BACKUP_CODE_DIGITS}}$`);
const CODE_SPACE = 10 ** BACKUP_CODE_DIGITS;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/**
 * 8 digits carry only ~26.6 bits, so the hash must be slow: N = 2^14, r = 8 (about 16 MiB and tens
 * of milliseconds each) makes a stolen hash expensive to search while a check stays interactive.
 */
const COST: Readonly<Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>>> = { N: 2 ** 14, r: 8, p: 1 };
const MAX_COST_N = 2 ** 20;
const HASH_PATTERN = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
// A used slot is still hashed against, so the response time does not tell which slots are spent.
const DUMMY_SALT = Buffer.alloc(SALT_BYTES, 0x5a);

/** Ten distinct codes from the CSPRNG; shown to the user once, stored only as hashes. */
export function generateBackupCodes(): string[] {
  const codes = new Set<string>();
  // Collisions among 10 draws from 10^8 are rare; the bound only guards against a broken generator.
  for (let draw = 0; codes.size < BACKUP_CODE_COUNT && draw < BACKUP_CODE_COUNT * 10; draw++) {
    codes.add(randomInt(0, CODE_SPACE).toString().padStart(BACKUP_CODE_DIGITS, '0'));
  }
  if (codes.size < BACKUP_CODE_COUNT) throw new Error('could not draw distinct backup codes');
  return [...codes];
}

export function isBackupCodeFormat(code: string): boolean {
  return CODE_PATTERN.test(code);
}

/** `scrypt$N$r$p$salt$hash` (base64): the parameters travel with the hash so the cost can rise later. */
export async function hashBackupCode(code: string): Promise<string> {
  if (!isBackupCodeFormat(code)) throw new RangeError(`a backup code has ${BACKUP_CODE_DIGITS} digits`);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(code, salt, COST, KEY_BYTES);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64'), key.toString('base64')].join('$');
}

/**
 * Index of the slot the code matches, or null. Every slot is derived and compared in constant time,
 * used ones (null) against a dummy, so timing reveals neither whether nor where a code matched.
 */
export async function matchBackupCode(code: string, hashes: readonly (string | null)[]): Promise<number | null> {
  if (!isBackupCodeFormat(code)) return null;
  const matches = await Promise.all(hashes.map((hash) => (hash === null ? compareWithDummy(code) : compareWith(code, hash))));
  const index = matches.indexOf(true);
  return index < 0 ? null : index;
}

async function compareWith(code: string, stored: string): Promise<boolean> {
  const { cost, salt, key } = parseHash(stored);
  const candidate = await derive(code, salt, cost, key.length);
  return timingSafeEqual(candidate, key);
}

async function compareWithDummy(code: string): Promise<boolean> {
  const candidate = await derive(code, DUMMY_SALT, COST, KEY_BYTES);
  timingSafeEqual(candidate, Buffer.alloc(KEY_BYTES));
  return false;
}

interface ParsedHash {
  readonly cost: typeof COST;
  readonly salt: Buffer;
  readonly key: Buffer;
}

function parseHash(stored: string): ParsedHash {
  const match = HASH_PATTERN.exec(stored);
  if (!match) throw new Error('stored backup code hash is malformed');
  const cost = { N: Number(match[1]), r: Number(match[2]), p: Number(match[3]) };
  // Parameters come from our own history, but bounds keep a corrupted value from exhausting memory.
  const sane = cost.N >= 2 && cost.N <= MAX_COST_N && (cost.N & (cost.N - 1)) === 0 && cost.r >= 1 && cost.p >= 1;
  const key = Buffer.from(match[5]!, 'base64');
  if (!sane || key.length < 16) throw new Error('stored backup code hash is malformed');
  return { cost, salt: Buffer.from(match[4]!, 'base64'), key };
}

function derive(code: string, salt: Buffer, cost: typeof COST, length: number): Promise<Buffer> {
  const maxmem = 256 * cost.N * cost.r + 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(code, salt, length, { ...cost, maxmem }, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
