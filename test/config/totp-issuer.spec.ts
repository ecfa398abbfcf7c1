import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('TOTP_ISSUER', () => {
  it('defaults to Approvals and accepts spaces and punctuation other than a colon', () => {
    expect(loadConfig({}).TOTP_ISSUER).toBe('Approvals');
    expect(loadConfig({ TOTP_ISSUER: 'Acme Approvals (EU) & Co.' }).TOTP_ISSUER).toBe('Acme Approvals (EU) & Co.');
  });

  it('refuses a colon or a control character at load, naming the variable', () => {
    for (const issuer of ['Acme:Corp', 'Acme\nCorp']) {
      expect(() => loadConfig({ TOTP_ISSUER: issuer })).toThrow(ConfigError);
      expect(() => loadConfig({ TOTP_ISSUER: issuer })).toThrow(/TOTP_ISSUER: must not contain ":"/);
    }
  });
});
