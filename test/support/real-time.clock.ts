import { FakeClock } from '../../src/kernel/clock.js';

/**
 * Follows the real clock (Agenda schedules on real time) while keeping FakeClock's API, so a test
 * can still jump ahead, e.g. past a lockout.
 */
export class RealTimeClock extends FakeClock {
  private offset = 0;

  override now(): Date {
    return new Date(Date.now() + this.offset);
  }

  override advance(ms: number): void {
    this.offset += ms;
  }

  override set(at: Date | string): void {
    this.offset = new Date(at).getTime() - Date.now();
  }
}
