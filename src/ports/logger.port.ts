import type { Logger as PinoLogger } from 'pino';

/**
 * Structured logging. Pino's interface is the port itself: it is small, stable and what every
 * adapter (stdout JSON, a test sink) already speaks.
 */
export type Logger = PinoLogger;
