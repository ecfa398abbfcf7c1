/**
 * Runs the commands of one user's stream one after another within this process. Concurrent commands
 * on one stream would otherwise all decide on the same revision and all but one retry on conflict;
 * a burst (a double click sent twenty times, fifty guesses at once) then exhausts the bounded
 * retries with 409s, and every retry decrypts and matches the code again. Queued, each command
 * decides on the state the previous one left: a locked-out user is refused before any check.
 * Conflicts with other processes are still resolved by the handler's retry.
 */
export class UserCommandQueue {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(userId) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(userId, tail);
    // The map holds only streams with work in flight.
    void tail.then(() => {
      if (this.tails.get(userId) === tail) this.tails.delete(userId);
    });
    return result;
  }
}
