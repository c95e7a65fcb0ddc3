import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, setCookies, type Session } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/testServer.js';

/**
 * Sessions as a browser or script sees them (CONTRACT §3, §5, §7): login and its cookies,
 * throttling of failed logins, status, renewal, expiry, logout, forged cookies, CSRF modes and
 * how passwords are stored.
 */

interface LoginJson {
  userName: string;
  userFDN: string;
  loginDomainID: string;
  authTokenValidUntil: string;
  Status: string;
}
interface ProblemJson {
  type: string;
  status: number;
  detail: string;
  requestId?: string;
  field?: string;
}

const SECRET = 'sessions-test-secret-sessions-test-secret';
const MINUTE = 60_000;

function movableClock(start: string): { now: () => Date; set: (at: Date | number) => Date } {
  let current = new Date(start);
  return {
    now: () => current,
    set: (at) => {
      current = new Date(at);
      return current;
    },
  };
}

function postLogin(
  server: TestServer,
  email: string,
  password: string,
  query = '',
): Promise<Response> {
  return fetch(`${server.url}/api/login${query}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ email, password }),
  });
}

/** The Set-Cookie header for `name`, whole (with its attributes). */
function setCookieHeader(response: Response, name: string): string | undefined {
  return response.headers.getSetCookie().find((header) => header.startsWith(`${name}=`));
}

/** The `Expires` attribute of a Set-Cookie header. */
function expiresOf(header: string): Date {
  const match = /;\s*expires=([^;]+)/i.exec(header);
  expect(match).not.toBeNull();
  return new Date(match![1]!);
}

/** The fields of a signed `AtmoAuthToken_*` value: `TokenID=…,…,sig=…`. */
function cookieFields(value: string): Map<string, string> {
  return new Map(
    decodeURIComponent(value)
      .split(',')
      .map((pair) => {
        const eq = pair.indexOf('=');
        return [pair.slice(0, eq), pair.slice(eq + 1)] as const;
      }),
  );
}

function withCookie(session: Session, authCookie: string): Session {
  return { ...session, authCookie, cookie: `AtmoAuthToken_${session.tenant}=${authCookie}` };
}

async function expectProblem(
  response: Response,
  status: number,
  slug: string,
): Promise<ProblemJson> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await response.json()) as ProblemJson;
  expect(body).toMatchObject({ type: `urn:tickets:problem:${slug}`, status });
  return body;
}

const status = (
  server: TestServer,
  session: Session | undefined,
  headers: Record<string, string> = {},
) =>
  call(server.url, session, '/api/login/status', {
    headers: { Accept: 'application/json', ...headers },
  });

describe('login', () => {
  const clock = movableClock('2030-05-01T08:00:00.000Z');
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ now: clock.now, secret: SECRET });
  });
  afterAll(() => server.close());

  it('answers the login response and sets the session and CSRF cookies', async () => {
    clock.set(Date.parse('2030-05-01T08:00:00.000Z'));
    const response = await postLogin(server, 'ada@acme.test', PASSWORD);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as LoginJson;
    expect(body).toMatchObject({
      userName: 'Ada',
      userFDN: 'ada.acme',
      loginDomainID: 'siteusers.acme',
      authTokenValidUntil: '2030-05-01T08:30:00.000Z',
      Status: 'Success',
    });

    const auth = setCookieHeader(response, 'AtmoAuthToken_acme');
    const csrf = setCookieHeader(response, 'Csrf-Token_acme');
    expect(auth).toBeDefined();
    expect(csrf).toBeDefined();
    expect(auth).toMatch(/;\s*httponly/i);
    expect(auth).toMatch(/;\s*samesite=lax/i);
    expect(auth).toMatch(/;\s*path=\//i);
    expect(expiresOf(auth!).toISOString()).toBe('2030-05-01T08:30:00.000Z');
    expect(csrf).not.toMatch(/httponly/i);
    expect(csrf).toMatch(/;\s*samesite=lax/i);
    const cookies = setCookies(response);
    expect(cookies.get('Csrf-Token_acme')!.length).toBeGreaterThan(10);
  });

  it('the session cookie holds TokenID, issueTime, expirationTime and a signature', async () => {
    clock.set(Date.parse('2030-05-01T09:00:00.000Z'));
    const response = await postLogin(server, 'bob@acme.test', PASSWORD);
    const value = setCookies(response).get('AtmoAuthToken_acme')!;
    const fields = cookieFields(value);
    expect(fields.get('TokenID')).toMatch(/\S{8,}/);
    expect(Number(fields.get('issueTime'))).toBe(Date.parse('2030-05-01T09:00:00.000Z'));
    expect(Number(fields.get('expirationTime'))).toBe(Date.parse('2030-05-01T09:30:00.000Z'));
    expect(fields.get('sig')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(decodeURIComponent(value)).toContain('bob.acme');
  });

  it('XML login response when asked: a LoginResponse root', async () => {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/xml' },
      body: JSON.stringify({ email: 'carol@acme.test', password: PASSWORD }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/xml');
    const text = await response.text();
    expect(text).toMatch(
      /<LoginResponse>.*<userFDN>carol\.acme<\/userFDN>.*<Status>Success<\/Status>.*<\/LoginResponse>/s,
    );
  });

  it.each([
    ['application/json;charset=UTF-8', 'application/json'],
    ['application/xml; charset=utf-8', 'application/xml'],
    ['application/vnd.soa.v81+json; charset="UTF-8", */*;q=0.1', 'application/vnd.soa.v81+json'],
  ])(
    'logs in with Accept: %s (a UTF-8 charset parameter is no reason to refuse)',
    async (accept, type) => {
      const response = await fetch(`${server.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: accept },
        body: JSON.stringify({ email: 'carol@acme.test', password: PASSWORD }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')?.split(';')[0]).toBe(type);
    },
  );

  it.each([
    [{ password: PASSWORD }, 'email', 'email is required'],
    [{ email: 1, password: PASSWORD }, 'email', 'email must be a string'],
    [{ email: 'ada@acme.test', password: ['x'] }, 'password', 'password must be a string'],
  ])('a login body %j says which field is wrong, and how', async (body, field, detail) => {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ field, detail });
  });

  it('refuses Accept with a charset it does not write (406), logging nobody in', async () => {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/json; charset=iso-8859-1',
      },
      body: JSON.stringify({ email: 'carol@acme.test', password: PASSWORD }),
    });
    expect(response.status).toBe(406);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('a wrong password and an unknown e-mail get the identical 401 (apart from the request id)', async () => {
    const wrong = await postLogin(server, 'bob@acme.test', 'not-the-password');
    const unknown = await postLogin(server, 'nobody@acme.test', PASSWORD);
    const a = await expectProblem(wrong, 401, 'unauthenticated');
    const b = await expectProblem(unknown, 401, 'unauthenticated');
    expect(a.requestId).not.toBe(b.requestId);
    expect({ ...a, requestId: undefined }).toEqual({ ...b, requestId: undefined });
    expect(wrong.headers.getSetCookie()).toEqual([]);
    expect(unknown.headers.getSetCookie()).toEqual([]);
  });

  it('a missing field is 400 naming it', async () => {
    const response = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: 'ada@acme.test' }),
    });
    const problem = await expectProblem(response, 400, 'invalid-input');
    expect(problem.field).toBe('password');
  });

  it('repeated failures are slowed: after 3, the next attempt waits (429, Retry-After), even with the right password', async () => {
    clock.set(Date.parse('2030-05-01T10:00:00.000Z'));
    for (let i = 0; i < 3; i += 1) {
      await expectProblem(
        await postLogin(server, 'shay@acme.test', `wrong-${i}`),
        401,
        'unauthenticated',
      );
    }
    const slowed = await postLogin(server, 'shay@acme.test', PASSWORD);
    await expectProblem(slowed, 429, 'too-many-requests');
    expect(slowed.headers.get('retry-after')).toBe('1');
    expect(slowed.headers.getSetCookie()).toEqual([]);

    // After the wait, the right password works again (and clears the count).
    clock.set(Date.parse('2030-05-01T10:00:01.000Z'));
    const ok = await postLogin(server, 'shay@acme.test', PASSWORD);
    expect(ok.status).toBe(200);
    expect(setCookies(ok).get('AtmoAuthToken_acme')).toBeTruthy();
    await expectProblem(
      await postLogin(server, 'shay@acme.test', 'wrong-again'),
      401,
      'unauthenticated',
    );
    expect((await postLogin(server, 'shay@acme.test', PASSWORD)).status).toBe(200);
  });

  it('the wait grows with each further failure', async () => {
    const start = Date.parse('2030-05-01T11:00:00.000Z');
    clock.set(start);
    for (let i = 0; i < 3; i += 1) await postLogin(server, 'root@acme.test', `wrong-${i}`);
    clock.set(start + 1000);
    await expectProblem(
      await postLogin(server, 'root@acme.test', 'wrong-3'),
      401,
      'unauthenticated',
    );
    const slowed = await postLogin(server, 'root@acme.test', PASSWORD);
    await expectProblem(slowed, 429, 'too-many-requests');
    expect(slowed.headers.get('retry-after')).toBe('2');
    clock.set(start + 3000);
    expect((await postLogin(server, 'root@acme.test', PASSWORD)).status).toBe(200);
  });

  it('an unknown e-mail is slowed exactly like a real account (nothing tells them apart)', async () => {
    clock.set(Date.parse('2030-05-01T12:00:00.000Z'));
    for (let i = 0; i < 3; i += 1) await postLogin(server, 'ghost@acme.test', `wrong-${i}`);
    const slowed = await postLogin(server, 'ghost@acme.test', PASSWORD);
    await expectProblem(slowed, 429, 'too-many-requests');
    expect(slowed.headers.get('retry-after')).toBe('1');
  });

  it('a burst of concurrent guesses is slowed like guesses one after another', async () => {
    clock.set(Date.parse('2030-05-01T14:00:00.000Z'));
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        postLogin(server, 'ada@acme.test', `guess-${i}`).then((response) => response.status),
      ),
    );
    // Exactly as one after another: three failures, then every attempt must wait.
    expect(statuses.filter((code) => code === 401)).toHaveLength(3);
    expect(statuses.filter((code) => code === 429)).toHaveLength(9);
    await expectProblem(
      await postLogin(server, 'ada@acme.test', PASSWORD),
      429,
      'too-many-requests',
    );
    clock.set(Date.parse('2030-05-01T14:00:01.000Z'));
    expect((await postLogin(server, 'ada@acme.test', PASSWORD)).status).toBe(200);
  });

  it('naming the tenant with ?fedmemberid= does not start a fresh count of failures', async () => {
    clock.set(Date.parse('2030-05-01T13:00:00.000Z'));
    for (let i = 0; i < 3; i += 1) await postLogin(server, 'carol@acme.test', `wrong-${i}`);
    for (const query of ['?fedmemberid=acme', '?fedmemberid=globex', '']) {
      const slowed = await postLogin(server, 'carol@acme.test', PASSWORD, query);
      await expectProblem(slowed, 429, 'too-many-requests');
    }
    clock.set(Date.parse('2030-05-01T13:00:01.000Z'));
    expect((await postLogin(server, 'carol@acme.test', PASSWORD, '?fedmemberid=acme')).status).toBe(
      200,
    );
  });
});

describe('status, renewal and expiry', () => {
  const clock = movableClock('2030-06-01T08:00:00.000Z');
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ now: clock.now, sessionMinutes: 30, sessionMaxMinutes: 60 });
  });
  afterAll(() => server.close());

  it('GET /api/login/status answers the login response of the session; without a session 401', async () => {
    clock.set(Date.parse('2030-06-01T08:00:00.000Z'));
    const ada = await login(server.url, 'ada@acme.test');
    const response = await status(server, ada);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      userName: 'Ada',
      userFDN: 'ada.acme',
      loginDomainID: 'siteusers.acme',
      authTokenValidUntil: '2030-06-01T08:30:00.000Z',
      Status: 'Success',
    });
    const xml = await status(server, ada, { Accept: 'application/vnd.soa.v81+xml' });
    expect(xml.headers.get('content-type')).toContain('application/vnd.soa.v81+xml');
    expect(await xml.text()).toMatch(
      /<LoginResponse>.*<userName>Ada<\/userName>.*<\/LoginResponse>/s,
    );
    await expectProblem(await status(server, undefined), 401, 'unauthenticated');
  });

  it('renewToken needs the CSRF header, gives now + the session length, never past the maximum after login', async () => {
    const loginAt = Date.parse('2030-06-01T09:00:00.000Z');
    clock.set(loginAt);
    const bob = await login(server.url, 'bob@acme.test');
    const renew = (session: Session, options: { noCsrf?: boolean } = {}) =>
      call(server.url, session, '/api/login/renewToken', {
        method: 'POST',
        headers: { Accept: 'application/json' },
        ...options,
      });

    clock.set(loginAt + 20 * MINUTE);
    await expectProblem(await renew(bob, { noCsrf: true }), 401, 'unauthenticated');
    const wrongCsrf = await call(server.url, bob, '/api/login/renewToken', {
      method: 'POST',
      headers: { 'X-Csrf-Token_acme': 'TokenID=forged' },
    });
    await expectProblem(wrongCsrf, 401, 'unauthenticated');

    const first = await renew(bob);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      userFDN: 'bob.acme',
      Status: 'Success',
      authTokenValidUntil: new Date(loginAt + 50 * MINUTE).toISOString(),
    });
    const firstCookie = setCookies(first).get('AtmoAuthToken_acme')!;
    expect(Number(cookieFields(firstCookie).get('expirationTime'))).toBe(loginAt + 50 * MINUTE);
    expect(expiresOf(setCookieHeader(first, 'AtmoAuthToken_acme')!).getTime()).toBe(
      loginAt + 50 * MINUTE,
    );
    const renewed = withCookie(bob, firstCookie);

    // Past the original 30 minutes, the renewed session still works.
    clock.set(loginAt + 40 * MINUTE);
    expect((await status(server, renewed)).status).toBe(200);

    // Renewal is capped at 60 minutes after login.
    clock.set(loginAt + 45 * MINUTE);
    const second = await renew(renewed);
    expect(second.status).toBe(200);
    expect(((await second.json()) as LoginJson).authTokenValidUntil).toBe(
      new Date(loginAt + 60 * MINUTE).toISOString(),
    );
    const capped = withCookie(bob, setCookies(second).get('AtmoAuthToken_acme')!);

    clock.set(loginAt + 59 * MINUTE);
    expect((await status(server, capped)).status).toBe(200);
    const third = await renew(capped);
    expect(((await third.json()) as LoginJson).authTokenValidUntil).toBe(
      new Date(loginAt + 60 * MINUTE).toISOString(),
    );

    // Once expired, neither status nor renewal works.
    clock.set(loginAt + 60 * MINUTE + 1000);
    await expectProblem(await status(server, capped), 401, 'unauthenticated');
    await expectProblem(await renew(capped), 401, 'unauthenticated');
  });

  it('renewToken of an expired session is 401', async () => {
    const loginAt = Date.parse('2030-06-01T11:00:00.000Z');
    clock.set(loginAt);
    const carol = await login(server.url, 'carol@acme.test');
    clock.set(loginAt + 31 * MINUTE);
    const response = await call(server.url, carol, '/api/login/renewToken', { method: 'POST' });
    await expectProblem(response, 401, 'unauthenticated');
    await expectProblem(await status(server, carol), 401, 'unauthenticated');
  });
});

describe('a one-minute session', () => {
  const clock = movableClock('2030-07-01T08:00:00.000Z');
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ now: clock.now, sessionMinutes: 1 });
  });
  afterAll(() => server.close());

  it('expires after a minute', async () => {
    const loginAt = Date.parse('2030-07-01T08:00:00.000Z');
    const response = await postLogin(server, 'ada@acme.test', PASSWORD);
    expect(((await response.json()) as LoginJson).authTokenValidUntil).toBe(
      '2030-07-01T08:01:00.000Z',
    );
    const ada = await login(server.url, 'ada@acme.test');
    clock.set(loginAt + 59_000);
    expect((await status(server, ada)).status).toBe(200);
    expect((await call(server.url, ada, '/api/tickets')).status).toBe(200);
    clock.set(loginAt + 60_000);
    await expectProblem(await status(server, ada), 401, 'unauthenticated');
    await expectProblem(await call(server.url, ada, '/api/tickets'), 401, 'unauthenticated');
  });
});

describe('logout and endsession', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  const expectBothCookiesExpired = (response: Response): void => {
    for (const name of ['AtmoAuthToken_acme', 'Csrf-Token_acme']) {
      const header = setCookieHeader(response, name);
      expect(header, name).toBeDefined();
      expect(expiresOf(header!).getTime()).toBeLessThan(Date.now());
      expect(header).toMatch(/;\s*path=\//i);
    }
  };

  it('POST /api/login/logout needs the CSRF header, then answers Success, expires both cookies and ends the session', async () => {
    const ada = await login(server.url, 'ada@acme.test');
    const refused = await call(server.url, ada, '/api/login/logout', {
      method: 'POST',
      noCsrf: true,
    });
    await expectProblem(refused, 401, 'unauthenticated');
    expect((await status(server, ada)).status).toBe(200);

    const response = await call(server.url, ada, '/api/login/logout', { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ Status: 'Success' });
    expectBothCookiesExpired(response);

    // The old cookie, still signed and not past its own expiry, no longer works.
    await expectProblem(await status(server, ada), 401, 'unauthenticated');
    await expectProblem(await call(server.url, ada, '/api/tickets'), 401, 'unauthenticated');
    await expectProblem(
      await call(server.url, ada, '/api/login/renewToken', { method: 'POST' }),
      401,
      'unauthenticated',
    );
    await expectProblem(
      await call(server.url, ada, '/api/login/logout', { method: 'POST' }),
      401,
      'unauthenticated',
    );
  });

  it('GET /api/login/endsession answers Success, expires both cookies and ends the session', async () => {
    const bob = await login(server.url, 'bob@acme.test');
    const other = await login(server.url, 'bob@acme.test');
    const response = await call(server.url, bob, '/api/login/endsession', { noCsrf: true });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ Status: 'Success' });
    expectBothCookiesExpired(response);
    await expectProblem(await status(server, bob), 401, 'unauthenticated');
    // Only that session ended: the same user's other session goes on.
    expect((await status(server, other)).status).toBe(200);
  });

  it('a forged or tampered session cookie is 401', async () => {
    const carol = await login(server.url, 'carol@acme.test');
    const decoded = decodeURIComponent(carol.authCookie);
    const tampered = [
      'garbage',
      '',
      encodeURIComponent(decoded.replace('UserFDN=carol.acme', 'UserFDN=root.acme')),
      encodeURIComponent(decoded.replace(/expirationTime=\d+/, 'expirationTime=99999999999999')),
      encodeURIComponent(decoded.replace(/sig=.*$/, 'sig=AAAA')),
      encodeURIComponent(decoded.replace(/,sig=.*$/, '')),
      carol.authCookie.slice(0, -2),
    ];
    for (const value of tampered) {
      await expectProblem(await status(server, withCookie(carol, value)), 401, 'unauthenticated');
    }
    expect((await status(server, carol)).status).toBe(200);
  });

  it('a cookie signed with another key is 401; one re-signed with the server key for another user is 401 too', async () => {
    const carol = await login(server.url, 'carol@acme.test');
    const decoded = decodeURIComponent(carol.authCookie);
    const payloadOf = (value: string) => value.slice(0, value.lastIndexOf(',sig='));
    const sign = (payload: string, key: string) =>
      encodeURIComponent(
        `${payload},sig=${createHmac('sha256', key).update(payload).digest('base64url')}`,
      );

    const wrongKey = sign(payloadOf(decoded), 'another-secret-another-secret-another!');
    await expectProblem(await status(server, withCookie(carol, wrongKey)), 401, 'unauthenticated');

    // Even with the signing key, a cookie is only as good as the server-side session it names.
    const otherUser = sign(
      payloadOf(decoded).replace('UserFDN=carol.acme', 'UserFDN=root.acme'),
      'test-secret-test-secret-test-secret!',
    );
    await expectProblem(await status(server, withCookie(carol, otherUser)), 401, 'unauthenticated');
    // Sanity: the same re-signing of the untouched payload is the real cookie.
    expect(sign(payloadOf(decoded), 'test-secret-test-secret-test-secret!')).toBe(carol.authCookie);
  });
});

describe('CSRF modes', () => {
  it('write (the default): writes need the header, GETs do not', async () => {
    await using server = await startTestServer();
    const ada = await login(server.url, 'ada@acme.test');
    const comment = (options: { noCsrf?: boolean; headers?: Record<string, string> } = {}) =>
      call(server.url, ada, '/api/tickets/ticket1.acme/comments', {
        method: 'POST',
        ...options,
        headers: { 'Content-Type': 'application/json', ...options.headers },
        body: JSON.stringify({ Content: 'csrf' }),
      });
    await expectProblem(await comment({ noCsrf: true }), 401, 'unauthenticated');
    await expectProblem(
      await comment({ noCsrf: true, headers: { 'X-Csrf-Token_acme': 'TokenID=nope,issueTime=1' } }),
      401,
      'unauthenticated',
    );
    // Header names are case-insensitive; the value may be sent decoded.
    expect(
      (
        await comment({
          noCsrf: true,
          headers: { 'x-csrf-token_ACME': decodeURIComponent(ada.csrf) },
        })
      ).status,
    ).toBe(201);
    expect((await comment()).status).toBe(201);
    expect((await call(server.url, ada, '/api/tickets', { noCsrf: true })).status).toBe(200);
    expect((await call(server.url, ada, '/api/login/status', { noCsrf: true })).status).toBe(200);
  });

  it('all: GETs need the header too, endsession included', async () => {
    await using server = await startTestServer({ csrf: 'all' });
    const ada = await login(server.url, 'ada@acme.test');
    for (const path of [
      '/api/tickets',
      '/api/tickets/ticket1.acme',
      '/api/login/status',
      '/api/login/endsession',
    ]) {
      await expectProblem(
        await call(server.url, ada, path, { noCsrf: true }),
        401,
        'unauthenticated',
      );
    }
    expect((await call(server.url, ada, '/api/tickets')).status).toBe(200);
    expect((await call(server.url, ada, '/api/tickets/ticket1.acme/history')).status).toBe(200);
    const ended = await call(server.url, ada, '/api/login/endsession');
    expect(ended.status).toBe(200);
    expect(await ended.json()).toEqual({ Status: 'Success' });
    await expectProblem(await call(server.url, ada, '/api/tickets'), 401, 'unauthenticated');
  });

  it('off: no CSRF cookie is set and no header is needed', async () => {
    await using server = await startTestServer({ csrf: 'off' });
    const response = await postLogin(server, 'ada@acme.test', PASSWORD);
    expect(response.status).toBe(200);
    expect(setCookieHeader(response, 'AtmoAuthToken_acme')).toBeDefined();
    expect(setCookieHeader(response, 'Csrf-Token_acme')).toBeUndefined();
    const ada = await login(server.url, 'ada@acme.test');
    expect(ada.csrf).toBe('');
    const created = await call(server.url, ada, '/api/tickets/ticket1.acme/comments', {
      method: 'POST',
      noCsrf: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ Content: 'no csrf' }),
    });
    expect(created.status).toBe(201);
    const acted = await call(server.url, ada, '/api/tickets/ticket1.acme/actions', {
      method: 'POST',
      noCsrf: true,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ActionName: 'ticket.action.resolve' }),
    });
    expect(acted.status).toBe(200);
    const renewed = await call(server.url, ada, '/api/login/renewToken', {
      method: 'POST',
      noCsrf: true,
    });
    expect(renewed.status).toBe(200);
    expect(setCookieHeader(renewed, 'Csrf-Token_acme')).toBeUndefined();
    expect(
      (await call(server.url, ada, '/api/login/logout', { method: 'POST', noCsrf: true })).status,
    ).toBe(200);
  });
});

describe('password storage', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('stores only slow salted hashes (scrypt), never the password', async () => {
    const rows = await server.sql<{ id: string; password_hash: string }>(
      'SELECT id, password_hash FROM users ORDER BY id',
    );
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(row.password_hash).not.toContain(PASSWORD);
      expect(row.password_hash).toMatch(
        /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]{16,}\$[A-Za-z0-9_-]{32,}$/,
      );
      // At least OWASP's minimum: one of its equivalent (N, r = 8, p) choices, from
      // (2^17, 8, 1) down to (2^13, 8, 10): N of 2^13 or more, and N · p of 81,920 or more.
      const [n, r, p] = row.password_hash.split('$').slice(1, 4).map(Number) as [
        number,
        number,
        number,
      ];
      expect(n).toBeGreaterThanOrEqual(1 << 13);
      expect(r).toBeGreaterThanOrEqual(8);
      expect(n * p).toBeGreaterThanOrEqual(81_920);
    }
    // Same password, different salts: no two hashes alike.
    expect(new Set(rows.map((row) => row.password_hash)).size).toBe(rows.length);
    // Nowhere in the database files either (SQLite's; PostgreSQL's are the server's own).
    const files = server.kind === 'sqlite' ? [server.dbPath, `${server.dbPath}-wal`] : [];
    for (const file of files) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch {
        continue;
      }
      expect(bytes.includes(Buffer.from(PASSWORD))).toBe(false);
    }
  });

  it('a successful login and a failed one leave no password in the log', async () => {
    await login(server.url, 'ada@acme.test');
    await postLogin(server, 'ada@acme.test', 'my-secret-guess-42');
    const logged = JSON.stringify(server.logs);
    expect(logged).not.toContain(PASSWORD);
    expect(logged).not.toContain('my-secret-guess-42');
  });
});

describe('cookies behind a TLS-terminating proxy', () => {
  const loginWith = (url: string, headers: Record<string, string>) =>
    fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ email: 'ada@acme.test', password: PASSWORD }),
    });

  it('marks the session cookies Secure when a trusted proxy says the request came over HTTPS', async () => {
    await using server = await startTestServer({ trustProxy: true });
    const overTls = await loginWith(server.url, { 'X-Forwarded-Proto': 'https' });
    expect(overTls.status).toBe(200);
    const cookies = overTls.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) expect(cookie.toLowerCase()).toContain('; secure');
  });

  it('ignores X-Forwarded-Proto unless told to trust a proxy', async () => {
    await using server = await startTestServer();
    const response = await loginWith(server.url, { 'X-Forwarded-Proto': 'https' });
    expect(response.status).toBe(200);
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(2);
    for (const cookie of cookies) {
      expect(cookie.toLowerCase()).not.toContain('secure');
    }
  });
});
