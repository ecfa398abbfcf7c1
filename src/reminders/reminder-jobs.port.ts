/**
 * One scheduled reminder job per user. Implementations must be idempotent: replaying the same
 * replacement (after a crash before the saga's checkpoint) leaves exactly one job at `at`.
 */
export interface ReminderJobs {
  /**
   * Cancels `previousJobId` (if any) and, when `at` is set, ensures one job for the user at `at`.
   * `after` is the position of the event that moved the schedule, when the subject document the job
   * reads is committed only after this call (the saga's writes go with its checkpoint).
   */
  replace(userId: string, previousJobId: string | null, at: Date | null, after: string | null): Promise<string | null>;
}
