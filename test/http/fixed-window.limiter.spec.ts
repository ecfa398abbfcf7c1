import { FixedWindowLimiter } from '../../src/http/fixed-window.limiter.js';

describe('fixed-window limiter', () => {
  it('allows the limit in a window, refuses the rest with the seconds left, and starts again after the window', () => {
    const limiter = new FixedWindowLimiter({ windowMs: 60_000, maxKeys: 100 });
    for (let hit = 0; hit < 3; hit++) expect(limiter.hit('k', 3, 1_000).allowed).toBe(true);
    expect(limiter.hit('k', 3, 1_000)).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect(limiter.hit('k', 3, 60_500)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.hit('k', 3, 61_000).allowed).toBe(true);
    expect(limiter.hit('other', 3, 61_000).allowed).toBe(true);
  });

  it('never tracks more keys than its cap: ended windows go first, then the oldest', () => {
    const limiter = new FixedWindowLimiter({ windowMs: 60_000, maxKeys: 100 });
    for (let key = 0; key < 10_000; key++) {
      limiter.hit(`key-${key}`, 1, key);
      expect(limiter.trackedKeys).toBeLessThanOrEqual(100);
    }
    // The newest keys are still counted, so a burst of new keys does not reset them.
    expect(limiter.hit('key-9999', 1, 10_000).allowed).toBe(false);
    limiter.hit('late', 1, 200_000);
    expect(limiter.trackedKeys).toBe(1);
  });
});
