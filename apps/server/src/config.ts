import { isAbsolute, resolve } from 'node:path';

/** How CSRF is enforced: on writes (default), on every request, or not at all. */
export type CsrfMode = 'write' | 'all' | 'off';

export type DatabaseConfig =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly database: DatabaseConfig;
  /** Where the SQLite file and the generated secret live. */
  readonly dataDir: string;
  /** Cookie signing key; when absent one is generated once and kept in the data folder. */
  readonly secret: string | undefined;
  readonly sessionMinutes: number;
  readonly sessionMaxMinutes: number;
  readonly csrf: CsrfMode;
  readonly logLevel: string;
  /** Provision the demo tenant when the database is empty (`serve` only). */
  readonly demo: boolean;
  /**
   * Trust `X-Forwarded-*` from a reverse proxy in front (TLS terminated there): cookies are then
   * marked Secure when the proxy says the request came over HTTPS.
   */
  readonly trustProxy: boolean;
}

/** Thrown for configuration that cannot work; the message says which variable. */
export class ConfigError extends Error {}

const DEFAULTS = {
  HOST: '127.0.0.1',
  PORT: '8080',
  TICKETS_SESSION_MINUTES: '30',
  TICKETS_SESSION_MAX_MINUTES: '480',
  TICKETS_CSRF: 'write',
  LOG_LEVEL: 'info',
  TICKETS_DATA_DIR: './data',
  TICKETS_DEMO: 'on',
  TICKETS_TRUST_PROXY: 'off',
} as const;

/** pino's levels; anything else would make the logger throw at start-up. */
const LOG_LEVELS: readonly string[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

const NAMES = [
  'HOST',
  'PORT',
  'DATABASE_URL',
  'TICKETS_SECRET',
  'TICKETS_SESSION_MINUTES',
  'TICKETS_SESSION_MAX_MINUTES',
  'TICKETS_CSRF',
  'LOG_LEVEL',
  'TICKETS_DATA_DIR',
  'TICKETS_DEMO',
  'TICKETS_TRUST_PROXY',
] as const;
type Name = (typeof NAMES)[number];

/**
 * Reads `--port 9000` / `--port=9000` style flags: the same names as the environment variables,
 * lower case with dashes (`--database-url`, `--tickets-csrf`, `--session-minutes` also works).
 */
function parseFlags(argv: readonly string[]): Partial<Record<Name, string>> {
  const flags: Partial<Record<Name, string>> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) continue;
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const upper = rawName.toUpperCase().replaceAll('-', '_');
    const name = (NAMES as readonly string[]).includes(upper)
      ? (upper as Name)
      : (NAMES as readonly string[]).includes(`TICKETS_${upper}`)
        ? (`TICKETS_${upper}` as Name)
        : undefined;
    if (!name) throw new ConfigError(`unknown option --${rawName}`);
    const value = inline ?? argv[i + 1];
    if (inline === undefined) i += 1;
    if (value === undefined) throw new ConfigError(`--${rawName} needs a value`);
    flags[name] = value;
  }
  return flags;
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function databaseFrom(url: string | undefined, dataDir: string, cwd: string): DatabaseConfig {
  if (!url) return { kind: 'sqlite', path: resolve(dataDir, 'tickets.db') };
  if (url.startsWith('postgres://') || url.startsWith('postgresql://'))
    return { kind: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/tickets.db');
    return {
      kind: 'sqlite',
      path: path === ':memory:' ? path : isAbsolute(path) ? path : resolve(cwd, path),
    };
  }
  throw new ConfigError('DATABASE_URL must start with postgres://, postgresql:// or sqlite:');
}

/** The only reader of process.env: the environment, overridden by flags. */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  argv: readonly string[] = [],
  cwd: string = process.cwd(),
): Config {
  const flags = parseFlags(argv);
  const get = (name: Name): string | undefined =>
    flags[name] ?? (env[name] === '' ? undefined : env[name]);
  const value = (name: keyof typeof DEFAULTS): string => get(name) ?? DEFAULTS[name];

  const csrf = value('TICKETS_CSRF');
  if (csrf !== 'write' && csrf !== 'all' && csrf !== 'off') {
    throw new ConfigError(`TICKETS_CSRF must be write, all or off, not "${csrf}"`);
  }
  const sessionMinutes = integer(
    'TICKETS_SESSION_MINUTES',
    value('TICKETS_SESSION_MINUTES'),
    1,
    24 * 60,
  );
  const sessionMaxMinutes = integer(
    'TICKETS_SESSION_MAX_MINUTES',
    value('TICKETS_SESSION_MAX_MINUTES'),
    1,
    30 * 24 * 60,
  );
  if (sessionMaxMinutes < sessionMinutes) {
    throw new ConfigError(
      'TICKETS_SESSION_MAX_MINUTES may not be less than TICKETS_SESSION_MINUTES',
    );
  }
  const secret = get('TICKETS_SECRET');
  if (secret !== undefined && secret.length < 32) {
    throw new ConfigError('TICKETS_SECRET must be at least 32 characters');
  }
  const logLevel = value('LOG_LEVEL');
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, not "${logLevel}"`);
  }
  const trustProxy = value('TICKETS_TRUST_PROXY');
  if (trustProxy !== 'on' && trustProxy !== 'off') {
    throw new ConfigError(`TICKETS_TRUST_PROXY must be on or off, not "${trustProxy}"`);
  }
  const demo = value('TICKETS_DEMO');
  if (demo !== 'on' && demo !== 'off')
    throw new ConfigError(`TICKETS_DEMO must be on or off, not "${demo}"`);
  const dataDir = resolve(cwd, value('TICKETS_DATA_DIR'));
  return {
    host: value('HOST'),
    port: integer('PORT', value('PORT'), 0, 65535),
    database: databaseFrom(get('DATABASE_URL'), dataDir, cwd),
    dataDir,
    secret,
    sessionMinutes,
    sessionMaxMinutes,
    csrf,
    logLevel,
    demo: demo === 'on',
    trustProxy: trustProxy === 'on',
  };
}
