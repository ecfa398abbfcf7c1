import { describe, expect, it } from '@jest/globals';
import { UserCommandQueue } from '../../src/two-factor/user-command.queue.js';

function later<T>(value: T, log: string[], label: string): () => Promise<T> {
  return async () => {
    log.push(`start ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    log.push(`end ${label}`);
    return value;
  };
}

describe('user command queue', () => {
  it('runs the commands of one user one after another, in order of arrival', async () => {
    const queue = new UserCommandQueue();
    const log: string[] = [];
    const results = await Promise.all([queue.run('u1', later(1, log, 'a')), queue.run('u1', later(2, log, 'b')), queue.run('u1', later(3, log, 'c'))]);
    expect(results).toEqual([1, 2, 3]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs commands of different users side by side', async () => {
    const queue = new UserCommandQueue();
    const log: string[] = [];
    await Promise.all([queue.run('u1', later(1, log, 'a')), queue.run('u2', later(2, log, 'b'))]);
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
  });

  it('passes a failure to its caller only and goes on with the next command', async () => {
    const queue = new UserCommandQueue();
    const failing = queue.run('u1', () => Promise.reject(new Error('refused')));
    const next = queue.run('u1', async () => 'next');
    await expect(failing).rejects.toThrow('refused');
    await expect(next).resolves.toBe('next');
  });
});
