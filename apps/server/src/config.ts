import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** How CSRF is enforced: on writes (default), on every request, or not at all. */
export type CsrfMode = 'write' | 'all' | 'off';

export type DatabaseConfig =
  | {
      readonly kind: 'sqlite';
      readonly path: string;
      /** SQLite's page cache, MiB (the SQLite store's default when absent). */
      readonly cacheMiB?: number;
    }
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

/** The shortest cookie-signing secret accepted, however it is given. */
export const MIN_SECRET_LENGTH = 32;

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

/** One setting: its environment variable is the key, its flag the same name in lower case with dashes. */
interface OptionSpec {
  /** The placeholder of its value in the help. */
  readonly value: string;
  /** Its default, as the environment would give it; none when it has no fixed default. */
  readonly default?: string;
  /** What the help says when there is no fixed default. */
  readonly defaultText?: string;
  readonly help: string;
  /** `serve` only (the address and the sessions), or every command (the database, the logs). */
  readonly scope: 'serve' | 'all';
  /** A secret: also readable from the file named by `NAME_FILE` / `--name-file` (the container convention). */
  readonly secret?: true;
}

/**
 * Every setting, in one table: the flag parser, the environment names, the defaults and the help
 * text all come from here.
 */
export const OPTIONS = {
  HOST: { value: 'HOST', default: '127.0.0.1', help: 'address to listen on', scope: 'serve' },
  PORT: {
    value: 'PORT',
    default: '8080',
    help: 'port to listen on (0 picks a free one)',
    scope: 'serve',
  },
  DATABASE_URL: {
    value: 'URL',
    defaultText: 'sqlite:DATA_DIR/tickets.db',
    help: 'sqlite:PATH, or postgres://... / postgresql://... for PostgreSQL',
    scope: 'all',
    secret: true,
  },
  TICKETS_DATA_DIR: {
    value: 'DIR',
    default: './data',
    help: 'where the SQLite file and the generated secret live',
    scope: 'all',
  },
  TICKETS_SECRET: {
    value: 'KEY',
    defaultText: 'generated once into DATA_DIR/secret',
    help: 'cookie signing key, at least 32 characters',
    scope: 'serve',
    secret: true,
  },
  TICKETS_SESSION_MINUTES: {
    value: 'N',
    default: '30',
    help: 'session length in minutes (1 to 1440); a renewal extends by this much',
    scope: 'serve',
  },
  TICKETS_SESSION_MAX_MINUTES: {
    value: 'N',
    default: '480',
    help: 'no session lives longer than this after login',
    scope: 'serve',
  },
  TICKETS_CSRF: {
    value: 'write|all|off',
    default: 'write',
    help: 'the CSRF header on every non-GET (write), on every request (all), or never (off)',
    scope: 'serve',
  },
  TICKETS_DEMO: {
    value: 'on|off',
    default: 'off',
    help: 'provision the demo tenant (known passwords!) into an empty database; npm start sets on',
    scope: 'serve',
  },
  TICKETS_TRUST_PROXY: {
    value: 'on|off',
    default: 'off',
    help: 'behind a TLS-terminating proxy: trust X-Forwarded-Proto, so cookies are Secure',
    scope: 'serve',
  },
  TICKETS_SQLITE_CACHE_MIB: {
    value: 'MIB',
    default: '4',
    help: "SQLite's page cache in MiB (1 to 4096): more keeps more of a big database in memory",
    scope: 'all',
  },
  LOG_LEVEL: {
    value: 'LEVEL',
    default: 'info',
    help: `${LOG_LEVELS.join('|')}; logs are JSON lines on stdout`,
    scope: 'all',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;
const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];
type Values = Partial<Record<OptionName, string>>;

/** `TICKETS_SESSION_MINUTES` → `tickets-session-minutes`. */
export const flagOf = (name: string): string => name.toLowerCase().replaceAll('_', '-');
const fileVariant = (name: OptionName): string | undefined =>
  (OPTIONS[name] as OptionSpec).secret ? `${name}_FILE` : undefined;

/** The flags and variables of one option, for the parser and the help. */
function spellings(name: OptionName): { flags: string[]; files: string[] } {
  const short = (n: string) =>
    n.startsWith('TICKETS_') ? [flagOf(n), flagOf(n.slice(8))] : [flagOf(n)];
  const file = fileVariant(name);
  return { flags: short(name), files: file ? short(file) : [] };
}

/** The options a command takes: `serve` takes them all, `migrate` and `provision` the `all` ones. */
export function optionsOf(command: 'serve' | 'migrate' | 'provision'): OptionName[] {
  return OPTION_NAMES.filter((name) => command === 'serve' || OPTIONS[name].scope === 'all');
}

/** The help lines of a command's options, from the table. */
export function optionsHelp(names: readonly OptionName[]): string {
  const rows: [string, string][] = [];
  for (const name of names) {
    const spec: OptionSpec = OPTIONS[name];
    const fallback = spec.default ?? spec.defaultText;
    rows.push([`--${flagOf(name)} ${spec.value}`, `${spec.help}`]);
    rows.push(['', `env ${name}${fallback ? `, default ${fallback}` : ''}`]);
    const file = fileVariant(name);
    if (file) rows.push([`--${flagOf(file)} PATH`, `read ${name} from a file (env ${file})`]);
  }
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`).join('\n') + '\n';
}

export interface CommandLine {
  /**
   * The options the command takes: the others are not read, from flags or the environment
   * (`migrate` with a `PORT` meant for `serve` in its environment does not check it).
   */
  readonly options: readonly OptionName[];
  /** The options given as flags, by variable name. */
  readonly values: Values;
  /** Flags naming files of secrets, by variable name. */
  readonly files: Partial<Record<OptionName, string>>;
  readonly positionals: string[];
  readonly help: boolean;
  readonly version: boolean;
}

/**
 * Parses a command's flags with `util.parseArgs`: `--port 9000`, `--port=9000`, the `TICKETS_`
 * prefix optional (`--session-minutes 5`), `--help`/`-h`, `--version`/`-V`.
 */
export function parseCommandLine(
  argv: readonly string[],
  names: readonly OptionName[] = OPTION_NAMES,
): CommandLine {
  const options: Record<string, { type: 'string' } | { type: 'boolean'; short: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'V' },
  };
  const owner = new Map<string, { name: OptionName; file: boolean }>();
  for (const name of names) {
    const { flags, files } = spellings(name);
    for (const flag of flags) owner.set(flag, { name, file: false });
    for (const flag of files) owner.set(flag, { name, file: true });
  }
  for (const flag of owner.keys()) options[flag] = { type: 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (error) {
    throw new ConfigError(flagProblem(error as NodeJS.ErrnoException));
  }
  const values: Values = {};
  const files: Partial<Record<OptionName, string>> = {};
  for (const [flag, value] of Object.entries(parsed.values)) {
    const target = owner.get(flag);
    if (!target || typeof value !== 'string') continue;
    (target.file ? files : values)[target.name] = value;
  }
  return {
    options: names,
    values,
    files,
    positionals: parsed.positionals,
    help: parsed.values['help'] === true,
    version: parsed.values['version'] === true,
  };
}

/** parseArgs' messages, in the words of this tool (and never with the value of a flag). */
function flagProblem(error: NodeJS.ErrnoException): string {
  const flag = /'(-[^' ]+)/.exec(error.message)?.[1] ?? 'a flag';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return `${flag} needs a value`;
    default:
      return error.message;
  }
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return n;
}

function databaseFrom(
  url: string | undefined,
  dataDir: string,
  cwd: string,
  cacheMiB: number,
): DatabaseConfig {
  if (!url) return { kind: 'sqlite', path: resolve(dataDir, 'tickets.db'), cacheMiB };
  if (url.startsWith('postgres://') || url.startsWith('postgresql://'))
    return { kind: 'postgres', url };
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '')
      throw new ConfigError('DATABASE_URL sqlite: needs a path, e.g. sqlite:./data/tickets.db');
    return {
      kind: 'sqlite',
      path: path === ':memory:' ? path : isAbsolute(path) ? path : resolve(cwd, path),
      cacheMiB,
    };
  }
  throw new ConfigError('DATABASE_URL must start with postgres://, postgresql:// or sqlite:');
}

/** Reads a file holding a secret: one value, its trailing newline dropped. */
export type ReadSecretFile = (path: string) => string;
const readSecretFile: ReadSecretFile = (path) => readFileSync(path, 'utf8').replace(/\r?\n$/, '');

/**
 * The only reader of process.env: the environment, overridden by flags (`argv` holds flags only;
 * the CLI passes what `parseCommandLine` found instead).
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  argv: readonly string[] | CommandLine = [],
  cwd: string = process.cwd(),
  readFile: ReadSecretFile = readSecretFile,
): Config {
  const commandLine = Array.isArray(argv)
    ? parseCommandLine(argv as readonly string[])
    : (argv as CommandLine);
  if (commandLine.positionals.length > 0) {
    throw new ConfigError(`unexpected argument ${commandLine.positionals[0]}`);
  }
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const get = (name: OptionName): string | undefined => {
    if (!commandLine.options.includes(name)) return undefined;
    const direct = commandLine.values[name];
    if (direct !== undefined) return direct;
    const file = fileVariant(name);
    const path = commandLine.files[name] ?? (file ? fromEnv(file) : undefined);
    if (path === undefined) return fromEnv(name);
    if (commandLine.files[name] === undefined && fromEnv(name) !== undefined) {
      throw new ConfigError(`${name} and ${file} are both set: keep one`);
    }
    try {
      const value = readFile(resolve(cwd, path));
      if (value === '') throw new ConfigError(`${file} names an empty file: ${path}`);
      return value;
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(
        `${file}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  const value = (name: Exclude<OptionName, 'DATABASE_URL' | 'TICKETS_SECRET'>): string =>
    get(name) ?? OPTIONS[name].default;

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
  if (secret !== undefined && secret.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(`TICKETS_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
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
    database: databaseFrom(
      get('DATABASE_URL'),
      dataDir,
      cwd,
      integer('TICKETS_SQLITE_CACHE_MIB', value('TICKETS_SQLITE_CACHE_MIB'), 1, 4096),
    ),
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
