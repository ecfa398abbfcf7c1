import { describe, expect, it } from '@jest/globals';
import { derivedEventId, derivedResourceId } from '../../src/kernel/ids.js';

const VERSION_8_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('derived ids', () => {
  // Stored events carry these ids: a retry recognises its first attempt only if they never change.
  it('derives the same ids as stored events already carry', () => {
    expect(derivedEventId('cmd-1', 0)).toBe('2412b7f2-4877-879d-85ac-fc6e409f18e0');
    expect(derivedEventId('cmd-1', 1)).toBe('4336afe0-0382-8b63-8977-403b16cd8797');
    expect(derivedResourceId('cmd-1')).toBe('601687ae-d02a-86d0-83d2-77a13961c56b');
  });

  it('formats every id as an RFC 9562 version-8 UUID, as EventStoreDB requires', () => {
    for (let i = 0; i < 500; i++) {
      expect(derivedEventId(`command-${i}`, i % 3)).toMatch(VERSION_8_UUID);
      expect(derivedResourceId(`command-${i}`)).toMatch(VERSION_8_UUID);
    }
  });

  it('gives each command and index its own id', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 500; i++) for (let index = 0; index < 3; index++) ids.add(derivedEventId(`command-${i}`, index));
    expect(ids.size).toBe(1500);
  });
});
