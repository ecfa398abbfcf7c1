import { Injectable } from '@nestjs/common';
import { hashBackupCode, matchBackupCode } from './backup-codes.js';

/**
 * The slow part of backup codes (ten scrypt derivations per set or per check) behind one seam, so
 * that a test can count which requests reach it: only an authorised caller who is not locked out
 * may make the server do this work.
 */
@Injectable()
export class BackupCodeHasher {
  hash(code: string): Promise<string> {
    return hashBackupCode(code);
  }

  /** Index of the unused slot the code matches, or null (see matchBackupCode). */
  match(code: string, hashes: readonly (string | null)[]): Promise<number | null> {
    return matchBackupCode(code, hashes);
  }
}
