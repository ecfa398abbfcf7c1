import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('configuration', () => {
  it('has safe defaults for the embedded profile', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PROFILE: 'embedded', PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', ROLES: ['api', 'projector', 'scheduler'] });
    expect(config.REMINDER_SOFT_EVERY).toBe(7 * 24 * 3600 * 1000);
    expect(config.REMINDER_HARD_EVERY).toBe(24 * 3600 * 1000);
    expect(config.ADMIN_DIGEST_EVERY).toBe(7 * 24 * 3600 * 1000);
    expect(loadConfig({ ADMIN_DIGEST_EVERY: '2 days' }).ADMIN_DIGEST_EVERY).toBe(2 * 24 * 3600 * 1000);
  });

  it('sends hard enforcement to the page the service serves, and names a product and a help contact', () => {
    expect(loadConfig({})).toMatchObject({
      ENFORCEMENT_PAGE_URL: 'http://localhost:3000/two-factor/required',
      PRODUCT_NAME: 'Approvals',
      SUPPORT_URL: 'mailto:security@example.com',
    });
    expect(loadConfig({ APP_BASE_URL: 'https://app.example.com/approvals/', MAIL_FROM: 'Help <help@example.com>' })).toMatchObject({
      ENFORCEMENT_PAGE_URL: 'https://app.example.com/approvals/two-factor/required',
      SUPPORT_URL: 'mailto:help@example.com',
    });
    expect(loadConfig({ APP_BASE_URL: 'https://app.example.com', ENFORCEMENT_PAGE_URL: 'https://app.example.com/2fa', SUPPORT_URL: 'https://help.example.com' })).toMatchObject({
      ENFORCEMENT_PAGE_URL: 'https://app.example.com/2fa',
      SUPPORT_URL: 'https://help.example.com',
    });
  });

  it('reads human intervals as Agenda does', () => {
    expect(loadConfig({ REMINDER_HARD_EVERY: '3 seconds', SCHEDULER_PROCESS_EVERY: '0.5 seconds' })).toMatchObject({ REMINDER_HARD_EVERY: 3000, SCHEDULER_PROCESS_EVERY: 500 });
  });

  it.each([
    ['PORT', 'eighty'],
    ['PROFILE', 'staging'],
    ['ROLES', 'api,cron'],
    ['REMINDER_SOFT_EVERY', 'often'],
    ['REMINDER_HARD_EVERY', '100 milliseconds'],
    ['ADMIN_DIGEST_EVERY', 'weekly'],
    ['APP_BASE_URL', 'not a url'],
    ['AUTH_JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['SMTP_URL', 'http://mail'],
    ['EVENTSTORE_CONNECTION_STRING', 'postgres://x'],
    ['AUTH_MAX_TOKEN_LIFETIME', 'forever'],
    ['AUTH_JWKS_URL', 'http://idp.example.com/jwks.json'],
    ['AUTH_JWKS_URL', 'http://127.0.0.1.example.com/jwks.json'],
    ['RATE_LIMIT_PER_USER', '0'],
    ['RATE_LIMIT_PER_CLIENT', 'many'],
    ['RATE_LIMIT_WINDOW', 'soon'],
    ['RATE_LIMIT_MAX_KEYS', '10'],
    ['METRICS_PORT', '70000'],
    ['SUPPORT_URL', 'javascript:alert(1)'],
    ['PRODUCT_NAME', 'Two\nLines'],
    ['ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS', '50'],
    ['ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS', 'soon'],
  ])('stops on an invalid %s and names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration\\n\\s+${name}(\\.\\d+)?:`));
  });

  it('has safe defaults for tokens, rate limits and metrics', () => {
    expect(loadConfig({})).toMatchObject({
      AUTH_MAX_TOKEN_LIFETIME: 24 * 3600 * 1000,
      RATE_LIMIT_WINDOW: 60_000,
      RATE_LIMIT_PER_USER: 10,
      RATE_LIMIT_PER_CLIENT: 60,
      RATE_LIMIT_MAX_KEYS: 100_000,
      METRICS_HOST: '127.0.0.1',
      ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS: 10_000,
    });
    expect(loadConfig({}).METRICS_PORT).toBeUndefined();
    expect(loadConfig({ AUTH_MAX_TOKEN_LIFETIME: '15 minutes' }).AUTH_MAX_TOKEN_LIFETIME).toBe(15 * 60_000);
  });

  it('trusts devices for 30 days and resets with one agent unless told otherwise', () => {
    expect(loadConfig({})).toMatchObject({ TRUSTED_DEVICE_DAYS: 30, RESET_REQUIRES_APPROVAL: false });
    expect(loadConfig({ TRUSTED_DEVICE_DAYS: '7', RESET_REQUIRES_APPROVAL: 'true' })).toMatchObject({ TRUSTED_DEVICE_DAYS: 7, RESET_REQUIRES_APPROVAL: true });
    for (const value of ['0', '366', '1.5', 'month']) expect(() => loadConfig({ TRUSTED_DEVICE_DAYS: value })).toThrow(/TRUSTED_DEVICE_DAYS/);
    for (const value of ['yes', '1', 'TRUE']) expect(() => loadConfig({ RESET_REQUIRES_APPROVAL: value })).toThrow(/RESET_REQUIRES_APPROVAL/);
  });

  it('pools 50 SMTP connections unless told otherwise, and refuses a pool size outside 1..100', () => {
    expect(loadConfig({}).SMTP_MAX_CONNECTIONS).toBe(50);
    expect(loadConfig({ SMTP_MAX_CONNECTIONS: '5' }).SMTP_MAX_CONNECTIONS).toBe(5);
    for (const value of ['0', '101', '2.5', 'many']) expect(() => loadConfig({ SMTP_MAX_CONNECTIONS: value })).toThrow(/SMTP_MAX_CONNECTIONS/);
  });

  it('accepts an https JWKS URL, and plain http only on a loopback host', () => {
    for (const url of ['https://idp.example.com/.well-known/jwks.json', 'http://127.0.0.1:8080/jwks', 'http://localhost/jwks', 'http://[::1]:9000/jwks']) {
      expect(loadConfig({ AUTH_JWKS_URL: url }).AUTH_JWKS_URL).toBe(url);
    }
  });

  it('requires the issuer and the audience with a JWKS on the production profile', () => {
    const production = { PROFILE: 'production', EVENTSTORE_CONNECTION_STRING: 'esdb://localhost:2113', MONGODB_URI: 'mongodb://localhost', SMTP_URL: 'smtp://localhost', MASTER_KEY: 'k' };
    const jwks = { AUTH_JWKS_URL: 'https://idp.example.com/jwks.json' };
    expect(() => loadConfig({ ...production, ...jwks })).toThrow(/AUTH_ISSUER: required with AUTH_JWKS_URL[\s\S]*AUTH_AUDIENCE: required with AUTH_JWKS_URL/);
    expect(() => loadConfig({ ...production, ...jwks, AUTH_ISSUER: 'https://idp.example.com/' })).toThrow(/AUTH_AUDIENCE/);
    expect(() => loadConfig({ ...production, ...jwks, AUTH_AUDIENCE: 'two-factor' })).toThrow(/AUTH_ISSUER/);
    expect(loadConfig({ ...production, ...jwks, AUTH_ISSUER: 'https://idp.example.com/', AUTH_AUDIENCE: 'two-factor' }).AUTH_AUDIENCE).toBe('two-factor');
  });

  it('never repeats a rejected value, which may be a secret', () => {
    expect(() => loadConfig({ AUTH_JWT_SECRET: 'tooshort-secret' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('tooshort-secret') }));
  });

  it('requires the production connections on the production profile', () => {
    let message = '';
    try {
      loadConfig({ PROFILE: 'production' });
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of ['EVENTSTORE_CONNECTION_STRING', 'MONGODB_URI', 'SMTP_URL', 'MASTER_KEY', 'AUTH_JWKS_URL']) expect(message).toContain(name);
  });
});
