/**
 * The admins' digest periods: consecutive intervals of ADMIN_DIGEST_EVERY counted from Monday
 * 5 January 1970 00:00 UTC, so that weekly digests start on Mondays at midnight UTC whichever
 * process computes them. A period is named by its start instant (ISO).
 */
const ORIGIN = Date.UTC(1970, 0, 5);

export function periodStart(now: Date, everyMs: number): Date {
  const index = Math.floor((now.getTime() - ORIGIN) / everyMs);
  return new Date(ORIGIN + index * everyMs);
}

export function nextPeriodStart(now: Date, everyMs: number): Date {
  return new Date(periodStart(now, everyMs).getTime() + everyMs);
}
