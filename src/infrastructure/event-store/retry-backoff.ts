/** Exponential backoff with a ceiling, so a poisoned handler or a dead server is retried forever but never hot. */
export interface BackoffPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000 };

/** attempt 1 waits initialMs, each further attempt doubles, capped at maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(policy.initialMs * 2 ** exponent, policy.maxMs);
}

/** Resolves after ms, or at once when the signal aborts, so stop() never waits out a backoff. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls the handler until it succeeds: a failed event is retried, never skipped, because a skipped
 * event would leave a read model or saga silently wrong. Returns false when stopped before success.
 */
export async function deliverUntilHandled<T>(
  handler: (item: T) => Promise<void>,
  item: T,
  policy: BackoffPolicy,
  signal: AbortSignal,
  onError: (error: unknown) => void,
): Promise<boolean> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await handler(item);
      return true;
    } catch (error) {
      onError(error);
      await sleepUnlessAborted(backoffDelay(attempt, policy), signal);
    }
  }
  return false;
}

/** Reports a failed delivery or a dropped subscription; a throwing reporter must not kill the loop. */
export function reportSubscriptionError(onError: ((error: unknown) => void) | undefined, error: unknown): void {
  try {
    if (onError) onError(error);
    // Only the error's name by default: handler errors may quote event data, which can be personal.
    else process.emitWarning(`event subscription retrying after ${error instanceof Error ? error.name : 'a failure'}`);
  } catch {
    // Swallowed on purpose: delivery must go on even if reporting fails.
  }
}
