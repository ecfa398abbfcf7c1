import { describe, expect, it } from '@jest/globals';
import { generateTotpCode, generateTotpSecret, matchTimeStep, totpUri } from '../../src/two-factor/totp.js';
import { timeStepAt } from '../../src/two-factor/totp.policy.js';

// RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890", here in base32.
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Appendix B lists 8-digit values; dynamic truncation mod 10^6 keeps their last six digits. */
const RFC_VECTORS: ReadonlyArray<readonly [seconds: number, eightDigits: string]> = [
  [59, '94287082'],
  [1111111109, '07081804'],
  [1111111111, '14050471'],
  [1234567890, '89005924'],
  [2000000000, '69279037'],
  [20000000000, '65353130'],
];

function atSeconds(seconds: number): Date {
  return new Date(seconds * 1000);
}

function base32Decode(value: string): Buffer {
  let bits = '';
  for (const char of value) bits += BASE32_ALPHABET.indexOf(char).toString(2).padStart(5, '0');
  const bytes = bits.match(/.{8}/g) ?? [];
  return Buffer.from(bytes.map((byte) => parseInt(byte, 2)));
}

describe('TOTP (RFC 6238, SHA-1, 6 digits, 30 s)', () => {
  it.each(RFC_VECTORS)('generates the Appendix B code at T=%i', (seconds, eightDigits) => {
    expect(generateTotpCode({ secret: RFC_SECRET, at: atSeconds(seconds) })).toBe(eightDigits.slice(-6));
  });

  it.each(RFC_VECTORS)('matches the Appendix B code at T=%i to its time step', (seconds, eightDigits) => {
    const step = Math.floor(seconds / 30);
    expect(matchTimeStep({ secret: RFC_SECRET, code: eightDigits.slice(-6), at: atSeconds(seconds) })).toBe(step);
  });

  it('accepts one step of drift either way and names the step the code belongs to', () => {
    const at = atSeconds(1111111111);
    const step = timeStepAt(at.getTime());
    for (const drift of [-1, 0, 1]) {
      const code = generateTotpCode({ secret: RFC_SECRET, at: atSeconds((step + drift) * 30) });
      expect(matchTimeStep({ secret: RFC_SECRET, code, at })).toBe(step + drift);
    }
  });

  it('refuses codes two steps away', () => {
    const at = atSeconds(1111111111);
    const step = timeStepAt(at.getTime());
    for (const drift of [-2, 2]) {
      const code = generateTotpCode({ secret: RFC_SECRET, at: atSeconds((step + drift) * 30) });
      expect(matchTimeStep({ secret: RFC_SECRET, code, at })).toBeNull();
    }
  });

  it('refuses a step at or before afterTimeStep (replay) and accepts a later one', () => {
    const at = atSeconds(1234567890);
    const step = timeStepAt(at.getTime());
    const current = generateTotpCode({ secret: RFC_SECRET, at });
    const next = generateTotpCode({ secret: RFC_SECRET, at: atSeconds((step + 1) * 30) });
    expect(matchTimeStep({ secret: RFC_SECRET, code: current, at, afterTimeStep: step })).toBeNull();
    expect(matchTimeStep({ secret: RFC_SECRET, code: current, at, afterTimeStep: step + 5 })).toBeNull();
    expect(matchTimeStep({ secret: RFC_SECRET, code: current, at, afterTimeStep: step - 1 })).toBe(step);
    expect(matchTimeStep({ secret: RFC_SECRET, code: next, at, afterTimeStep: step })).toBe(step + 1);
    expect(matchTimeStep({ secret: RFC_SECRET, code: current, at, afterTimeStep: null })).toBe(step);
  });

  it.each(['', '28708', '2870820', '28708a', ' 287082', '287 082', '２８７０８２'])('refuses malformed code %j', (code) => {
    expect(matchTimeStep({ secret: RFC_SECRET, code, at: atSeconds(59) })).toBeNull();
  });

  it('refuses a valid code for another secret', () => {
    const code = generateTotpCode({ secret: RFC_SECRET, at: atSeconds(59) });
    // A fixed other secret keeps the test deterministic (a random one collides once in ~10^6 runs).
    expect(matchTimeStep({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', code, at: atSeconds(59) })).toBeNull();
  });

  it('keeps a malformed secret out of error messages', () => {
    const secret = 'NOT-BASE32-!!';
    expect(() => matchTimeStep({ secret, code: '123456', at: atSeconds(59) })).toThrow(/malformed/);
    try {
      matchTimeStep({ secret, code: '123456', at: atSeconds(59) });
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret);
    }
  });

  it('generates 160-bit base32 secrets, different each time', () => {
    const secrets = Array.from({ length: 20 }, () => generateTotpSecret());
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(base32Decode(secret)).toHaveLength(20);
    }
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it('builds an otpauth URI with issuer, account, secret and explicit SHA1 / 6 digits / 30 s', () => {
    const uri = totpUri({ secret: RFC_SECRET, issuer: 'Acme Approvals', accountName: 'ada@example.com' });
    const url = new URL(uri);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname.slice(1))).toBe('Acme Approvals:ada@example.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      secret: RFC_SECRET,
      issuer: 'Acme Approvals',
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });

  it('refuses a colon in the issuer, which would make the label ambiguous', () => {
    expect(() => totpUri({ secret: RFC_SECRET, issuer: 'Acme:Corp', accountName: 'ada' })).toThrow(RangeError);
  });

  it('shows a colon of the account name as "." and percent-encodes the rest, so the label has exactly one separator', () => {
    const uri = totpUri({ secret: RFC_SECRET, issuer: 'Acme Approvals', accountName: 'tenant:a d/a?#%' });
    expect(uri.startsWith('otpauth://totp/Acme%20Approvals:tenant.a%20d%2Fa%3F%23%25?')).toBe(true);
    const url = new URL(uri);
    expect(decodeURIComponent(url.pathname.slice(1)).split(':')).toEqual(['Acme Approvals', 'tenant.a d/a?#%']);
    expect(url.searchParams.get('secret')).toBe(RFC_SECRET);
  });
});
