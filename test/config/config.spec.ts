import { ConfigError, loadConfig } from '../../src/config/config.js';

describe('configuration', () => {
  it('has safe defaults for the embedded profile', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ PROFILE: 'embedded', PORT: 3000, HOST: '127.0.0.1', DATA_DIR: './data', ROLES: ['api', 'projector', 'scheduler'] });
    expect(config.REMINDER_SOFT_EVERY).toBe(7 * 24 * 3600 * 1000);
    expect(config.REMINDER_HARD_EVERY).toBe(24 * 3600 * 1000);
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
    ['APP_BASE_URL', 'not a url'],
    ['AUTH_JWT_SECRET', 'short'],
    ['LOG_LEVEL', 'loud'],
    ['SMTP_URL', 'http://mail'],
    ['EVENTSTORE_CONNECTION_STRING', 'postgres://x'],
    ['SUPPORT_URL', 'javascript:alert(1)'],
    ['PRODUCT_NAME', 'Two\nLines'],
  ])('stops on an invalid %s and names it', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`^invalid configuration\\n\\s+${name}(\\.\\d+)?:`));
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
