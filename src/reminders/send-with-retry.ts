import type { Mailer, OutgoingMail, SentMail } from '../ports/mailer.port.js';

export interface RetryPolicy {
  /** Total tries, the first one included; at least 1. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Injected so tests need not wait; defaults to a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Retries a send with exponential backoff and rethrows the last error. A retry reuses the mail
 * unchanged, so its Message-ID stays the same: should a server have accepted a message whose
 * reply was lost, the duplicate is recognisable. A permanent rejection (5xx) is not retried,
 * since the server would refuse the same message again.
 */
export async function sendWithRetry(mailer: Mailer, mail: OutgoingMail, policy: RetryPolicy): Promise<SentMail> {
  assertPolicy(policy);
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await mailer.send(mail);
    } catch (error) {
      if (attempt >= policy.attempts || isPermanent(error)) throw error;
      await sleep(backoffDelay(attempt, policy));
    }
  }
}

/** The delay after the given failed attempt (1-based): base, 2·base, 4·base, … capped at max. */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
}

function isPermanent(error: unknown): boolean {
  return (error as { permanent?: unknown } | null)?.permanent === true;
}

function assertPolicy(policy: RetryPolicy): void {
  const valid =
    Number.isInteger(policy.attempts) &&
    policy.attempts >= 1 &&
    policy.attempts <= 100 &&
    policy.baseDelayMs >= 0 &&
    policy.maxDelayMs >= policy.baseDelayMs;
  if (!valid) throw new RangeError('retry policy: attempts must be 1..100 and 0 <= baseDelayMs <= maxDelayMs');
}
