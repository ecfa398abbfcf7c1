import type { LoggerService } from '@nestjs/common';
import type { Logger } from '../ports/logger.port.js';

/** Routes Nest's own framework logs into the structured JSON log. */
export class NestLoggerBridge implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  error(message: unknown, _trace?: string, context?: string): void {
    this.logger.error({ context }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.logger.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.logger.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.logger.trace({ context }, String(message));
  }
}
