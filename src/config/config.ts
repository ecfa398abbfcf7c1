import humanIntervalToMs from 'human-interval';
import { z } from 'zod';

/**
 * Configuration comes only from environment variables. Anything invalid stops start-up with a
 * message naming the variable, because a security service must not run on a guessed setting.
 */
const roles = ['api', 'projector', 'scheduler'] as const;
export type ProcessRole = (typeof roles)[number];

/**
 * Human intervals as Agenda reads them (the human-interval package), converted to milliseconds
 * once here. Millisecond units are refused: human-interval reads "100 milliseconds" as 100 s.
 */
const humanInterval = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(seconds?|minutes?|hours?|days?|weeks?)$/i, 'a human interval such as "1 week", "3 seconds" or "0.5 seconds"')
  .transform((text) => humanIntervalToMs(text))
  .pipe(z.number().positive('a positive interval').max(366 * 86_400_000));

const url = z.string().url();

const schema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('127.0.0.1'),
    PROFILE: z.enum(['embedded', 'production']).default('embedded'),
    DATA_DIR: z.string().min(1).default('./data'),
    EVENTSTORE_CONNECTION_STRING: z
      .string()
      .regex(/^(esdb|kurrentdb|kdb)(\+discover)?:\/\//, 'an esdb://, esdb+discover://, kurrentdb:// or kdb:// connection string')
      .transform(toEsdbClientScheme)
      .optional(),
    MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URI').optional(),
    MONGODB_DATABASE: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('two_factor'),
    SMTP_URL: z.string().regex(/^smtps?:\/\//, 'an smtp:// or smtps:// URL').optional(),
    MAIL_FROM: z.string().min(3).default('Security <security@example.com>'),
    /** SMTP connections a process keeps open (pooled, reused per message); as many as reminder jobs run at once, so no send waits for one. */
    SMTP_MAX_CONNECTIONS: z.coerce.number().int('a whole number').min(1, 'at least 1').max(100, 'at most 100').default(50),
    APP_BASE_URL: url.default('http://localhost:3000'),
    /** Default `${APP_BASE_URL}/two-factor/required`, filled in by loadConfig. */
    ENFORCEMENT_PAGE_URL: url.optional(),
    PRODUCT_NAME: z.string().trim().min(1).max(64).regex(/^[^\p{Cc}]+$/u, 'no control characters').default('Approvals'),
    /** Default: a mailto: link to the MAIL_FROM address, filled in by loadConfig. */
    SUPPORT_URL: z.string().regex(/^(https?:\/\/|mailto:)\S+$/, 'an http(s):// or mailto: URL').pipe(url).optional(),
    // The pages' brand: one colour (the pages derive readable shades from it) and an optional logo.
    BRAND_COLOR: z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a colour as #rrggbb').default('#2457c5'),
    LOGO_URL: z.string().regex(/^(https:\/\/\S+|\/[^/\s]\S*)$/, 'an https:// URL or an absolute path such as /logo.svg').optional(),
    /** Origins a hand-off may return to (comma-separated). Default: APP_BASE_URL's origin and the demo host. */
    PAGES_RETURN_ORIGINS: z
      .string()
      .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
      .pipe(z.array(z.string().regex(/^https?:\/\/[^/?#\s]+$/, 'origins such as https://app.example.com (scheme, host and port only)')).min(1))
      .optional(),
    REMINDER_SOFT_EVERY: humanInterval.prefault('1 week'),
    REMINDER_HARD_EVERY: humanInterval.prefault('1 day'),
    SCHEDULER_PROCESS_EVERY: humanInterval.prefault('5 seconds'),
    /** Each admin of an enforcing organisation gets one digest per interval (periods counted from a Monday 00:00 UTC). */
    ADMIN_DIGEST_EVERY: humanInterval.prefault('1 week'),
    AUTH_JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    AUTH_JWKS_URL: url.optional(),
    AUTH_ISSUER: z.string().min(1).optional(),
    AUTH_AUDIENCE: z.string().min(1).optional(),
    AUTH_MAX_TOKEN_LIFETIME: humanInterval.prefault('24 hours'),
    MASTER_KEY: z.string().optional(),
    // The otpauth label is "issuer:account": a colon in the issuer would make every label ambiguous.
    TOTP_ISSUER: z.string().min(1).max(64).regex(/^[^:\u0000-\u001f\u007f]+$/, 'must not contain ":" or control characters (the otpauth label is "issuer:account")').default('Approvals'),
    /** How long "remember this device" lets a browser skip the code. */
    TRUSTED_DEVICE_DAYS: z.coerce.number().int('a whole number of days').min(1, 'at least 1 day').max(365, 'at most 365 days').default(30),
    /** Two-person reset: a support reset becomes a request another support agent approves. */
    RESET_REQUIRES_APPROVAL: z.enum(['true', 'false'], 'true or false').default('false').transform((value) => value === 'true'),
    ROLES: z
      .string()
      .default('api,projector,scheduler')
      .transform((value) => value.split(',').map((r) => r.trim()).filter(Boolean))
      .pipe(z.array(z.enum(roles)).min(1)),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10_485_760).default(65_536),
    READ_YOUR_WRITES_TIMEOUT_MS: z.coerce.number().int().min(0).max(30_000).default(2_000),
    /** Open GET /v1/enforcement/changes streams this process serves at once (503 beyond). */
    ENFORCEMENT_FEED_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(10_000).default(100),
    /** Quiet time after which the change feed sends a comment, so proxies keep the stream open. */
    ENFORCEMENT_FEED_HEARTBEAT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
    /** How long a change-feed follower may leave the socket's buffer full before it is cut off (it resumes with Last-Event-ID). */
    ENFORCEMENT_FEED_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(10_000),
    // The enforcement check's in-memory documents (process running the projector only); 0 turns it off.
    ENFORCEMENT_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(100_000),
    RATE_LIMIT_WINDOW: humanInterval.prefault('1 minute'),
    RATE_LIMIT_PER_USER: z.coerce.number().int().min(1).max(1_000_000).default(10),
    RATE_LIMIT_PER_CLIENT: z.coerce.number().int().min(1).max(1_000_000).default(60),
    RATE_LIMIT_MAX_KEYS: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  })
  .superRefine((env, ctx) => {
    if (env.AUTH_JWKS_URL && !isTrustedKeySource(env.AUTH_JWKS_URL)) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'an https:// URL (http:// only for a loopback host)' });
    }
    if (env.PROFILE !== 'production') return;
    for (const name of ['EVENTSTORE_CONNECTION_STRING', 'MONGODB_URI', 'SMTP_URL', 'MASTER_KEY'] as const) {
      if (!env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required on the production profile' });
    }
    if (!env.AUTH_JWT_SECRET && !env.AUTH_JWKS_URL) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'AUTH_JWKS_URL or AUTH_JWT_SECRET is required on the production profile' });
    }
    // Without both, any token the identity provider signed for another application would pass.
    for (const name of ['AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
      if (env.AUTH_JWKS_URL && !env[name]) ctx.addIssue({ code: 'custom', path: [name], message: 'required with AUTH_JWKS_URL on the production profile' });
    }
  });

/**
 * KurrentDB documents kurrentdb:// and kdb://, but @eventstore/db-client 6.2.1 parses only esdb://
 * and esdb+discover://: the same connection string under the scheme the client understands.
 */
export function toEsdbClientScheme(connectionString: string): string {
  return connectionString.replace(/^(?:kurrentdb|kdb)(\+discover)?:\/\//, (_scheme, discover: string | undefined) => `esdb${discover ?? ''}://`);
}

/** Keys fetched over plain HTTP could be swapped on the way; loopback stays allowed for tests. */
function isTrustedKeySource(text: string): boolean {
  const { protocol, hostname } = new URL(text);
  if (protocol === 'https:') return true;
  return protocol === 'http:' && (hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname));
}

type ParsedConfig = z.infer<typeof schema>;
/** Defaults computed from other variables are filled in, so these are always set. */
export type Config = Omit<ParsedConfig, 'ENFORCEMENT_PAGE_URL' | 'SUPPORT_URL'> & { readonly ENFORCEMENT_PAGE_URL: string; readonly SUPPORT_URL: string };

function withDerivedDefaults(env: ParsedConfig): Config {
  const base = env.APP_BASE_URL.endsWith('/') ? env.APP_BASE_URL : `${env.APP_BASE_URL}/`;
  const sender = /<([^<>\s]+@[^<>\s]+)>/.exec(env.MAIL_FROM)?.[1] ?? env.MAIL_FROM.trim();
  return {
    ...env,
    ENFORCEMENT_PAGE_URL: env.ENFORCEMENT_PAGE_URL ?? new URL('two-factor/required', base).href,
    SUPPORT_URL: env.SUPPORT_URL ?? `mailto:${sender}`,
  };
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(Object.entries(env).filter(([key, value]) => key in schema.shape && value !== ''));
  const parsed = schema.safeParse(relevant);
  if (parsed.success) return withDerivedDefaults(parsed.data);
  const lines = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'environment'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration\n  ${lines.join('\n  ')}`);
}
