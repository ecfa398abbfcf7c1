/**
 * One scheduled reminder job per user. Implementations must be idempotent: replaying the same
 * replacement (after a crash before the saga's checkpoint) leaves exactly one job at `at`.
 */
export interface ReminderJobs {
  /** Cancels `previousJobId` (if any) and, when `at` is set, ensures one job for the user at `at`. */
  replace(userId: string, previousJobId: string | null, at: Date | null): Promise<string | null>;
}
