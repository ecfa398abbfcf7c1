import { describe, expect, it } from '@jest/globals';
import {
  BACKUP_CODE_COUNT,
  generateBackupCodes,
  hashBackupCode,
  isBackupCodeFormat,
  matchBackupCode,
} from '../../src/two-factor/backup-codes.js';

describe('backup codes', () => {
  it('generates ten distinct codes of eight digits', () => {
    const codes = generateBackupCodes();
    expect(codes).toHaveLength(BACKUP_CODE_COUNT);
    for (const code of codes) expect(code).toMatch(/^\d{8}$/);
    expect(new Set(codes).size).toBe(BACKUP_CODE_COUNT);
  });

  it('draws fresh codes each time', () => {
    const first = generateBackupCodes();
    const second = generateBackupCodes();
    // Ten identical draws from 10^8 values would mean the generator is not random at all.
    expect(second).not.toEqual(first);
  });

  it('hashes with scrypt, a random salt and its parameters, never containing the code', async () => {
    const code = '01234567';
    const [a, b] = await Promise.all([hashBackupCode(code), hashBackupCode(code)]);
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$/);
    expect(a).not.toEqual(b);
    expect(a).not.toContain(code);
  });

  it('refuses to hash something that is not an 8-digit code', async () => {
    await expect(hashBackupCode('1234567')).rejects.toThrow(RangeError);
    await expect(hashBackupCode('abcdefgh')).rejects.toThrow(RangeError);
  });

  describe('matching', () => {
    const codes = ['11111111', '22222222', '33333333'];
    const hashed = Promise.all(codes.map((code) => hashBackupCode(code)));

    it('returns the index of the matching slot', async () => {
      const hashes = await hashed;
      await expect(matchBackupCode('22222222', hashes)).resolves.toBe(1);
      await expect(matchBackupCode('33333333', hashes)).resolves.toBe(2);
    });

    it('returns null for a wrong code', async () => {
      await expect(matchBackupCode('44444444', await hashed)).resolves.toBeNull();
    });

    it('never matches a used slot (null), while still checking the others', async () => {
      const hashes = await hashed;
      const used = [hashes[0]!, null, hashes[2]!];
      await expect(matchBackupCode('22222222', used)).resolves.toBeNull();
      await expect(matchBackupCode('33333333', used)).resolves.toBe(2);
    });

    it('returns null for malformed input without hashing', async () => {
      const hashes = await hashed;
      for (const code of ['', '2222222', '222222222', '2222 2222', 'abcdefgh']) {
        await expect(matchBackupCode(code, hashes)).resolves.toBeNull();
      }
    });

    it('fails loudly on a corrupted stored hash instead of silently refusing every code', async () => {
      await expect(matchBackupCode('11111111', ['scrypt$16384$8$1$nope'])).rejects.toThrow(/malformed/);
      await expect(matchBackupCode('11111111', ['scrypt$3$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA=='])).rejects.toThrow(/malformed/);
    });
  });

  it('recognises the code format', () => {
    expect(isBackupCodeFormat('00000000')).toBe(true);
    expect(isBackupCodeFormat('0000000')).toBe(false);
    expect(isBackupCodeFormat('0000000a')).toBe(false);
  });
});
