import { pino } from 'pino';
import type { Logger } from '../../ports/logger.port.js';

/**
 * Structured JSON logs. Redaction is a second line of defence: code paths never log request
 * bodies, tokens, secrets or codes in the first place.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'two-factor-enforcement' },
      redact: {
        paths: ['req.headers.authorization', '*.authorization', '*.token', '*.secret', '*.code', '*.backupCode', '*.email', '*.password'],
        censor: '[redacted]',
      },
    },
    destination as never,
  );
}
