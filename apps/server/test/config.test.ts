// loadConfig(env, argv, cwd): the one reader of the environment (CONTRACT §6).
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, optionsOf, parseCommandLine } from '../src/config.js';

const CWD = '/srv/tickets';
const SECRET = 'a-signing-key-that-is-long-enough-0123456789';

/** The ConfigError that loading this configuration throws. */
function failure(env: Record<string, string | undefined>, argv: string[] = []): ConfigError {
  try {
    loadConfig(env, argv, CWD);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)} ${argv.join(' ')}`);
}

describe('loadConfig', () => {
  it("reads only the options of the command: migrate and provision leave serve's alone", () => {
    const env = {
      PORT: 'abc',
      HOST: 'whatever',
      TICKETS_CSRF: 'x',
      TICKETS_SECRET: 'short',
      TICKETS_SESSION_MINUTES: '0',
      TICKETS_DEMO: 'maybe',
      DATABASE_URL: 'sqlite:./t.db',
    };
    for (const command of ['migrate', 'provision'] as const) {
      const config = loadConfig(env, parseCommandLine([], optionsOf(command)), CWD);
      expect(config.database).toEqual({ kind: 'sqlite', path: '/srv/tickets/t.db', cacheMiB: 4 });
      expect(config.port).toBe(8080);
      expect(config.secret).toBeUndefined();
    }
    // What they do read is still checked.
    expect(() =>
      loadConfig({ ...env, LOG_LEVEL: 'loud' }, parseCommandLine([], optionsOf('migrate')), CWD),
    ).toThrow('LOG_LEVEL must be one of');
    // serve reads them all.
    expect(() => loadConfig(env, parseCommandLine([], optionsOf('serve')), CWD)).toThrow(
      ConfigError,
    );
  });

  it('has the documented defaults', () => {
    expect(loadConfig({}, [], CWD)).toEqual({
      host: '127.0.0.1',
      port: 8080,
      database: { kind: 'sqlite', path: '/srv/tickets/data/tickets.db', cacheMiB: 4 },
      dataDir: '/srv/tickets/data',
      secret: undefined,
      sessionMinutes: 30,
      sessionMaxMinutes: 480,
      csrf: 'write',
      logLevel: 'info',
      demo: false,
      trustProxy: false,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(
      loadConfig(
        { HOST: '', PORT: '', DATABASE_URL: '', TICKETS_CSRF: '', TICKETS_SECRET: '' },
        [],
        CWD,
      ),
    ).toEqual(loadConfig({}, [], CWD));
  });

  it('ignores variables that are not its own', () => {
    expect(loadConfig({ NODE_ENV: 'production', PATH: '/bin', port: '1' }, [], CWD)).toEqual(
      loadConfig({}, [], CWD),
    );
  });

  it('reads every variable', () => {
    expect(
      loadConfig(
        {
          HOST: '0.0.0.0',
          PORT: '9000',
          DATABASE_URL: 'sqlite:/var/lib/tickets/main.db',
          TICKETS_SECRET: SECRET,
          TICKETS_SESSION_MINUTES: '1',
          TICKETS_SESSION_MAX_MINUTES: '60',
          TICKETS_CSRF: 'all',
          LOG_LEVEL: 'debug',
          TICKETS_DATA_DIR: '/var/lib/tickets',
          TICKETS_DEMO: 'off',
          TICKETS_TRUST_PROXY: 'on',
          TICKETS_SQLITE_CACHE_MIB: '64',
        },
        [],
        CWD,
      ),
    ).toEqual({
      host: '0.0.0.0',
      port: 9000,
      database: { kind: 'sqlite', path: '/var/lib/tickets/main.db', cacheMiB: 64 },
      dataDir: '/var/lib/tickets',
      secret: SECRET,
      sessionMinutes: 1,
      sessionMaxMinutes: 60,
      csrf: 'all',
      logLevel: 'debug',
      demo: false,
      trustProxy: true,
    });
  });

  it.each(['write', 'all', 'off'] as const)('takes TICKETS_CSRF=%s', (csrf) => {
    expect(loadConfig({ TICKETS_CSRF: csrf }, [], CWD).csrf).toBe(csrf);
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])(
    'takes LOG_LEVEL=%s',
    (level) => {
      expect(loadConfig({ LOG_LEVEL: level }, [], CWD).logLevel).toBe(level);
    },
  );

  it('takes the edges of every range', () => {
    expect(loadConfig({ PORT: '0' }, [], CWD).port).toBe(0);
    expect(loadConfig({ PORT: '65535' }, [], CWD).port).toBe(65535);
    expect(
      loadConfig({ TICKETS_SESSION_MINUTES: '1440', TICKETS_SESSION_MAX_MINUTES: '1440' }, [], CWD),
    ).toMatchObject({ sessionMinutes: 1440, sessionMaxMinutes: 1440 });
    expect(
      loadConfig({ TICKETS_SESSION_MAX_MINUTES: String(30 * 24 * 60) }, [], CWD).sessionMaxMinutes,
    ).toBe(43200);
    expect(loadConfig({ TICKETS_SECRET: 'x'.repeat(32) }, [], CWD).secret).toBe('x'.repeat(32));
    expect(loadConfig({ TICKETS_SQLITE_CACHE_MIB: '1' }, [], CWD).database).toMatchObject({
      cacheMiB: 1,
    });
    expect(loadConfig({ TICKETS_SQLITE_CACHE_MIB: '4096' }, [], CWD).database).toMatchObject({
      cacheMiB: 4096,
    });
  });

  it('resolves a relative data folder against the working directory; the database follows it', () => {
    expect(loadConfig({ TICKETS_DATA_DIR: 'state' }, [], CWD)).toMatchObject({
      dataDir: '/srv/tickets/state',
      database: { kind: 'sqlite', path: '/srv/tickets/state/tickets.db' },
    });
    expect(loadConfig({ TICKETS_DATA_DIR: '/abs/dir' }, [], CWD).database).toEqual({
      kind: 'sqlite',
      path: '/abs/dir/tickets.db',
      cacheMiB: 4,
    });
  });

  describe('DATABASE_URL', () => {
    it.each([
      ['postgres://tickets:pw@db.internal:5432/tickets', 'postgres'],
      ['postgresql://tickets@localhost/tickets?sslmode=require', 'postgres'],
    ])('%s selects PostgreSQL, with the URL kept whole', (url) => {
      expect(loadConfig({ DATABASE_URL: url }, [], CWD).database).toEqual({
        kind: 'postgres',
        url,
      });
    });

    it.each([
      ['sqlite:/var/lib/tickets.db', '/var/lib/tickets.db'],
      ['sqlite:./data/other.db', '/srv/tickets/data/other.db'],
      ['sqlite:other.db', '/srv/tickets/other.db'],
      ['sqlite:../shared/tickets.db', '/srv/shared/tickets.db'],
      ['sqlite::memory:', ':memory:'],
    ])('%s selects SQLite at %s', (url, path) => {
      expect(loadConfig({ DATABASE_URL: url }, [], CWD).database).toEqual({
        kind: 'sqlite',
        path,
        cacheMiB: 4,
      });
    });

    it('a relative sqlite: path is relative to the working directory, not the data folder', () => {
      expect(
        loadConfig({ DATABASE_URL: 'sqlite:x.db', TICKETS_DATA_DIR: '/elsewhere' }, [], CWD)
          .database,
      ).toEqual({ kind: 'sqlite', path: '/srv/tickets/x.db', cacheMiB: 4 });
    });

    it.each([
      'sqlite:',
      'mysql://db/tickets',
      'file:tickets.db',
      'tickets.db',
      'SQLITE:/x.db',
      'postgres:/x',
    ])('refuses %s, naming DATABASE_URL', (url) => {
      expect(failure({ DATABASE_URL: url }).message).toContain('DATABASE_URL');
    });
  });

  describe('flags', () => {
    it('override the environment, in both spellings', () => {
      const config = loadConfig(
        { PORT: '9000', HOST: '10.0.0.1', TICKETS_CSRF: 'all', DATABASE_URL: 'sqlite:/env.db' },
        [
          '--port',
          '9001',
          '--host=127.0.0.2',
          '--tickets-csrf',
          'off',
          '--database-url=sqlite:/flag.db',
        ],
        CWD,
      );
      expect(config).toMatchObject({
        port: 9001,
        host: '127.0.0.2',
        csrf: 'off',
        database: { kind: 'sqlite', path: '/flag.db' },
      });
    });

    it('cover every variable, lower case with dashes', () => {
      expect(
        loadConfig(
          {},
          [
            '--host',
            '::1',
            '--port',
            '1234',
            '--database-url',
            'postgres://db/x',
            '--tickets-secret',
            SECRET,
            '--tickets-session-minutes',
            '5',
            '--tickets-session-max-minutes',
            '10',
            '--tickets-csrf',
            'all',
            '--log-level',
            'warn',
            '--tickets-data-dir',
            'var',
            '--tickets-demo',
            'off',
            '--tickets-trust-proxy',
            'on',
          ],
          CWD,
        ),
      ).toEqual({
        host: '::1',
        port: 1234,
        database: { kind: 'postgres', url: 'postgres://db/x' },
        dataDir: '/srv/tickets/var',
        secret: SECRET,
        sessionMinutes: 5,
        sessionMaxMinutes: 10,
        csrf: 'all',
        logLevel: 'warn',
        demo: false,
        trustProxy: true,
      });
    });

    it('may leave out the TICKETS_ prefix', () => {
      expect(
        loadConfig({}, ['--session-minutes', '7', '--csrf=off', '--demo', 'off'], CWD),
      ).toMatchObject({ sessionMinutes: 7, csrf: 'off', demo: false });
    });

    it('keep an = inside an inline value', () => {
      expect(loadConfig({}, ['--database-url=postgres://u:p=w@db/x'], CWD).database).toEqual({
        kind: 'postgres',
        url: 'postgres://u:p=w@db/x',
      });
    });

    it('an invalid flag value is named by its variable', () => {
      expect(failure({ TICKETS_CSRF: 'all' }, ['--tickets-csrf', 'maybe']).message).toContain(
        'TICKETS_CSRF',
      );
      expect(failure({}, ['--port=http']).message).toContain('PORT');
    });

    it('an unknown flag, or one without its value, is refused by name', () => {
      expect(failure({}, ['--verbose', 'yes']).message).toContain('--verbose');
      expect(failure({}, ['--port']).message).toContain('--port');
    });
  });

  describe('secrets from files (the container convention)', () => {
    const files: Record<string, string> = {
      '/run/secrets/key': `${SECRET}\n`,
      '/run/secrets/db': 'postgres://tickets:pw@db/tickets\n',
      '/run/secrets/empty': '',
    };
    const readFile = (path: string): string => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text.replace(/\n$/, '');
    };

    it('TICKETS_SECRET_FILE and DATABASE_URL_FILE are read, their newline dropped', () => {
      expect(
        loadConfig(
          { TICKETS_SECRET_FILE: '/run/secrets/key', DATABASE_URL_FILE: '/run/secrets/db' },
          [],
          CWD,
          readFile,
        ),
      ).toMatchObject({
        secret: SECRET,
        database: { kind: 'postgres', url: 'postgres://tickets:pw@db/tickets' },
      });
    });

    it('--tickets-secret-file works as a flag too, relative to the working directory', () => {
      const seen: string[] = [];
      const config = loadConfig({}, ['--tickets-secret-file', 'key'], CWD, (path) => {
        seen.push(path);
        return SECRET;
      });
      expect(config.secret).toBe(SECRET);
      expect(seen).toEqual(['/srv/tickets/key']);
    });

    it('refuses both the value and its file, an unreadable file and an empty one', () => {
      const both = () =>
        loadConfig(
          { TICKETS_SECRET: SECRET, TICKETS_SECRET_FILE: '/run/secrets/key' },
          [],
          CWD,
          readFile,
        );
      expect(both).toThrow(/TICKETS_SECRET and TICKETS_SECRET_FILE are both set/);
      const missing = () =>
        loadConfig({ TICKETS_SECRET_FILE: '/run/secrets/nope' }, [], CWD, readFile);
      expect(missing).toThrow(ConfigError);
      expect(missing).toThrow(/TICKETS_SECRET_FILE: cannot read \/run\/secrets\/nope \(ENOENT\)/);
      expect(() =>
        loadConfig({ DATABASE_URL_FILE: '/run/secrets/empty' }, [], CWD, readFile),
      ).toThrow(/DATABASE_URL_FILE names an empty file/);
    });

    it('a short secret read from a file is refused without showing it', () => {
      const error = (() => {
        try {
          loadConfig({ TICKETS_SECRET_FILE: '/k' }, [], CWD, () => 'hunter2-but-short');
        } catch (thrown) {
          return thrown as Error;
        }
        throw new Error('accepted a short secret');
      })();
      expect(error.message).toContain('TICKETS_SECRET');
      expect(error.message).not.toContain('hunter2');
    });
  });

  describe('every invalid value is a ConfigError naming its variable', () => {
    it.each([
      ['PORT', 'http'],
      ['PORT', '-1'],
      ['PORT', '65536'],
      ['PORT', '80.5'],
      ['PORT', '1e3'],
      ['PORT', ' 80'],
      ['PORT', '0x50'],
      ['TICKETS_SESSION_MINUTES', '0'],
      ['TICKETS_SESSION_MINUTES', '1441'],
      ['TICKETS_SESSION_MINUTES', 'thirty'],
      ['TICKETS_SESSION_MINUTES', '-5'],
      ['TICKETS_SESSION_MAX_MINUTES', '0'],
      ['TICKETS_SESSION_MAX_MINUTES', '43201'],
      ['TICKETS_SESSION_MAX_MINUTES', '8h'],
      ['TICKETS_SQLITE_CACHE_MIB', '0'],
      ['TICKETS_SQLITE_CACHE_MIB', '4097'],
      ['TICKETS_SQLITE_CACHE_MIB', '8M'],
      ['TICKETS_CSRF', 'maybe'],
      ['TICKETS_CSRF', 'WRITE'],
      ['TICKETS_CSRF', 'true'],
      ['TICKETS_SECRET', 'x'.repeat(31)],
      ['TICKETS_DEMO', 'yes'],
      ['TICKETS_TRUST_PROXY', 'yes'],
      ['TICKETS_DEMO', 'true'],
      ['LOG_LEVEL', 'verbose'],
      ['LOG_LEVEL', 'INFO'],
      ['DATABASE_URL', 'mongodb://db'],
    ])('%s=%s', (name, value) => {
      const error = failure({ [name]: value });
      expect(error.message).toContain(name);
    });

    it('TICKETS_SESSION_MAX_MINUTES below TICKETS_SESSION_MINUTES names both', () => {
      const error = failure({ TICKETS_SESSION_MINUTES: '60', TICKETS_SESSION_MAX_MINUTES: '30' });
      expect(error.message).toContain('TICKETS_SESSION_MAX_MINUTES');
      expect(error.message).toContain('TICKETS_SESSION_MINUTES');
      // The default maximum (480) is checked against a longer session too.
      expect(failure({ TICKETS_SESSION_MINUTES: '600' }).message).toContain(
        'TICKETS_SESSION_MAX_MINUTES',
      );
    });

    it('never puts the secret in the message', () => {
      const error = failure({ TICKETS_SECRET: 'hunter2-but-short' });
      expect(error.message).not.toContain('hunter2');
    });
  });
});
