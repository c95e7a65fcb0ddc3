/**
 * The error table of `POST /api/tickets/{TicketID}/actions` (CONTRACT §3 "Errors of the action
 * endpoint", §7 "Order of checks"), through real HTTP. Every refused request is followed by a
 * re-read of the ticket and its history: a refusal changes nothing.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { codeOfProblemType, ERROR_TABLE } from '@tickets/contract';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../src/store/store.js';
import { call, login, type Session } from './support/client.js';
import { raw } from './support/rawHttp.js';
import { startTestServer, type TestServer } from './support/testServer.js';

const INTERNAL_MESSAGE = 'An error occurred processing the call.';
const RESOLVE = 'ticket.action.resolve';
const REOPEN = 'ticket.action.reopen';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const actionsPath = (ticketId: string, query = ''): string =>
  `/api/tickets/${ticketId}/actions${query}`;
const resolveJson = JSON.stringify({ ActionName: RESOLVE, Comments: 'fixed' });

/** The media type of a Content-Type header, without parameters. */
const mediaTypeOf = (header: string | null | undefined): string =>
  (header ?? '').split(';')[0]!.trim().toLowerCase();

interface Snapshot {
  readonly ticket: { State: string; Version: number; Comments: number; Updated: string };
  readonly history: unknown[];
}

/** What a user of the ticket's tenant sees of it: the ticket and its whole history. */
async function snapshot(url: string, reader: Session, ticketId: string): Promise<Snapshot> {
  const ticket = await call(url, reader, `/api/tickets/${ticketId}`, {
    headers: { Accept: 'application/json' },
  });
  expect(ticket.status).toBe(200);
  const history = await call(url, reader, `/api/tickets/${ticketId}/history`, {
    headers: { Accept: 'application/json' },
  });
  expect(history.status).toBe(200);
  const { State, Version, Comments, Updated } = (await ticket.json()) as Snapshot['ticket'];
  return {
    ticket: { State, Version, Comments, Updated },
    history: ((await history.json()) as { History: unknown[] }).History,
  };
}

/**
 * Asserts a short text/plain refusal with a request id and a problem type of that status (in
 * `Problem-Type`), and answers its text.
 */
async function expectTextError(response: Response, status: number): Promise<string> {
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status });
  expect(mediaTypeOf(response.headers.get('Content-Type'))).toBe('text/plain');
  const code = codeOfProblemType(response.headers.get('Problem-Type') ?? '');
  expect(code && ERROR_TABLE[code].status).toBe(status);
  expect(response.headers.get('X-Request-Id')).toBeTruthy();
  expect(text.length).toBeGreaterThan(0);
  expect(text.length).toBeLessThan(500);
  expect(text).not.toMatch(/\n\s+at |Error:|SQLITE|node_modules/);
  return text;
}

describe('POST /api/tickets/{TicketID}/actions: every row of the error table', () => {
  let server: TestServer;
  let ada: Session; // Payments API admin
  let carol: Session; // plain user
  let bob: Session; // author of ticket1-4

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    carol = await login(server.url, 'carol@acme.test');
    bob = await login(server.url, 'bob@acme.test');
  });
  afterAll(() => server.close());

  /** Sends one action request and checks that ticket1 (and its history) did not change. */
  async function refusedOnTicket1(send: () => Promise<Response>, status: number): Promise<string> {
    const before = await snapshot(server.url, bob, 'ticket1.acme');
    const text = await expectTextError(await send(), status);
    expect(await snapshot(server.url, bob, 'ticket1.acme')).toEqual(before);
    return text;
  }

  const postAction = (
    session: Session | undefined,
    ticketId: string,
    options: {
      headers?: Record<string, string>;
      body?: string | Buffer;
      noCsrf?: boolean;
      query?: string;
    } = {},
  ): Promise<Response> =>
    call(server.url, session, actionsPath(ticketId, options.query), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...options.headers },
      body: options.body ?? resolveJson,
      ...(options.noCsrf && { noCsrf: true }),
    });

  describe('401: session and CSRF', () => {
    it('refuses a request without a session cookie', async () => {
      await refusedOnTicket1(
        () =>
          call(server.url, undefined, actionsPath('ticket1.acme'), {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Csrf-Token_acme': ada.csrf },
            body: resolveJson,
          }),
        401,
      );
    });

    it.each([
      [
        'a payload changed under a kept signature (another user)',
        (value: string) => value.replace('UserFDN%3Dcarol.acme', 'UserFDN%3Dada.acme'),
      ],
      [
        'a later expirationTime under a kept signature',
        (value: string) => value.replace(/expirationTime%3D(\d+)/, 'expirationTime%3D9$1'),
      ],
      [
        'a changed signature',
        (value: string) =>
          value.replace(/sig%3D(.)/, (_m, c: string) => `sig%3D${c === 'A' ? 'B' : 'A'}`),
      ],
      ['no signature at all', (value: string) => value.replace(/%2Csig%3D.*$/, '')],
      ['garbage', () => 'TokenID%3Dforged'],
    ])('refuses a forged session cookie: %s', async (_name, forge) => {
      const forged = forge(carol.authCookie);
      expect(forged).not.toBe(carol.authCookie);
      await refusedOnTicket1(
        () =>
          postAction(
            { ...carol, authCookie: forged, cookie: `AtmoAuthToken_acme=${forged}` },
            'ticket1.acme',
            {
              headers: { 'X-Csrf-Token_acme': carol.csrf },
            },
          ),
        401,
      );
      // The real cookie still works for reading: the forgery did not break the session.
      expect((await call(server.url, carol, '/api/tickets/ticket1.acme')).status).toBe(200);
    });

    it('refuses a request without the CSRF header, even with the CSRF cookie sent', async () => {
      await refusedOnTicket1(
        () =>
          postAction(ada, 'ticket1.acme', {
            noCsrf: true,
            headers: { Cookie: `${ada.cookie}; Csrf-Token_acme=${ada.csrf}` },
          }),
        401,
      );
    });

    it.each([
      ['a made-up value', () => 'TokenID%3Dnot-the-one'],
      ['another session’s value', () => carol.csrf],
      ['the value of the auth cookie', () => ada.authCookie],
      ['an empty value', () => ''],
    ])('refuses a wrong CSRF header: %s', async (_name, value) => {
      const text = await refusedOnTicket1(
        () =>
          postAction(ada, 'ticket1.acme', {
            noCsrf: true,
            headers: { 'X-Csrf-Token_acme': value() },
          }),
        401,
      );
      expect(text).toContain('X-Csrf-Token_acme');
    });

    it.each(['x-csrf-token_acme', 'X-CSRF-TOKEN_ACME', 'X-Csrf-Token_Acme'])(
      'accepts the CSRF header name in other letter case: %s',
      async (name) => {
        // A ticket of its own per case: each one is resolved for real.
        const id = {
          'x-csrf-token_acme': 'ticket4',
          'X-CSRF-TOKEN_ACME': 'ticket5',
          'X-Csrf-Token_Acme': 'ticket6',
        }[name]!;
        const root = await login(server.url, 'root@acme.test');
        const response = await raw(server.url, {
          path: actionsPath(`${id}.acme`),
          headers: { Cookie: root.cookie, [name]: root.csrf, 'Content-Type': 'application/json' },
          body: resolveJson,
        });
        expect({ status: response.status, text: response.text }).toEqual({
          status: 200,
          text: 'RESOLVED',
        });
        expect((await snapshot(server.url, bob, `${id}.acme`)).ticket.State).toBe('RESOLVED');
      },
    );
  });

  describe('401: another tenant', () => {
    const globexTickets = ['ticket1.globex', 'ticket999.globex'];

    it('answers another tenant’s ticket with 401, identically whether it exists or not', async () => {
      const gina = await login(server.url, 'gina@globex.test');
      const before = await snapshot(server.url, gina, 'ticket1.globex');
      const answers = [];
      for (const id of globexTickets) {
        const response = await postAction(ada, id, {
          headers: { 'X-Csrf-Token_acme': ada.csrf, 'X-Csrf-Token_globex': ada.csrf },
        });
        const text = await expectTextError(response, 401);
        answers.push({ status: response.status, type: response.headers.get('Content-Type'), text });
      }
      expect(answers[0]).toEqual(answers[1]);
      expect(answers[0]!.text).not.toMatch(/ticket1|ticket999|exist|found/i);

      // The globex ticket is untouched.
      expect(await snapshot(server.url, gina, 'ticket1.globex')).toEqual(before);
    });

    it('does not accept an acme session renamed as the globex cookie', async () => {
      const answers = [];
      for (const id of globexTickets) {
        const response = await call(server.url, undefined, actionsPath(id), {
          method: 'POST',
          headers: {
            Cookie: `AtmoAuthToken_globex=${ada.authCookie}`,
            'X-Csrf-Token_globex': ada.csrf,
            'Content-Type': 'application/json',
          },
          body: resolveJson,
        });
        answers.push({ status: response.status, text: await expectTextError(response, 401) });
      }
      expect(answers[0]).toEqual(answers[1]);
    });
  });

  describe('401: expired session', () => {
    it('refuses a session whose time is up, and nothing changes', async () => {
      let clock = new Date('2026-03-01T10:00:00.000Z');
      await using timed = await startTestServer({ now: () => clock });
      const session = await login(timed.url, 'ada@acme.test');
      clock = new Date(clock.getTime() + 29 * 60_000);
      const before = await snapshot(timed.url, session, 'ticket1.acme');

      clock = new Date(clock.getTime() + 2 * 60_000); // 31 minutes after login
      const response = await call(timed.url, session, actionsPath('ticket1.acme'), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: resolveJson,
      });
      await expectTextError(response, 401);

      clock = new Date('2026-03-01T10:00:00.000Z'); // read back as of before
      const fresh = await login(timed.url, 'bob@acme.test');
      expect(await snapshot(timed.url, fresh, 'ticket1.acme')).toEqual(before);
    });
  });

  describe('403: rights', () => {
    it('refuses a plain user resolving', async () => {
      const text = await refusedOnTicket1(() => postAction(carol, 'ticket1.acme'), 403);
      expect(text).toContain(RESOLVE);
    });

    it('refuses the author resolving (resolve needs an admin of the resource)', async () => {
      // carol wrote ticket6 (Shop app) but administers nothing.
      const before = await snapshot(server.url, carol, 'ticket6.acme');
      await expectTextError(await postAction(carol, 'ticket6.acme'), 403);
      expect(await snapshot(server.url, carol, 'ticket6.acme')).toEqual(before);
    });
  });

  describe('404: ticket', () => {
    it('answers an unknown ticket of the caller’s tenant with 404', async () => {
      const text = await expectTextError(await postAction(ada, 'ticket999.acme'), 404);
      expect(text).toContain('ticket999.acme');
      const missing = await call(server.url, ada, '/api/tickets/ticket999.acme', {
        headers: { Accept: 'application/json' },
      });
      expect(missing.status).toBe(404);
    });
  });

  describe('400: the body', () => {
    it.each([
      ['malformed JSON', 'application/json', '{"ActionName": "ticket.action.resolve",'],
      ['JSON with a trailing comma', 'application/json', `{"ActionName":"${RESOLVE}",}`],
      ['an empty JSON body', 'application/json', ''],
      ['malformed XML', 'application/xml', `<Action><ActionName>${RESOLVE}</Action>`],
      [
        'XML with another root element',
        'application/xml',
        `<Ticket><ActionName>${RESOLVE}</ActionName></Ticket>`,
      ],
      ['missing ActionName (JSON)', 'application/json', '{"Comments":"fixed"}'],
      ['empty ActionName (JSON)', 'application/json', '{"ActionName":""}'],
      ['a non-string ActionName', 'application/json', '{"ActionName":42}'],
      [
        'missing ActionName (XML)',
        'application/xml',
        '<Action><Comments>fixed</Comments></Action>',
      ],
      ['an unknown action', 'application/json', '{"ActionName":"ticket.action.explode"}'],
      [
        'an action in other letter case (names are case-sensitive)',
        'application/json',
        '{"ActionName":"Ticket.Action.Resolve"}',
      ],
      [
        'XML with a DOCTYPE',
        'application/xml',
        `<?xml version="1.0"?><!DOCTYPE Action [<!ELEMENT Action ANY>]><Action><ActionName>${RESOLVE}</ActionName></Action>`,
      ],
      [
        'XML with an external entity',
        'application/xml',
        `<?xml version="1.0"?><!DOCTYPE Action [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Action><ActionName>${RESOLVE}</ActionName><Comments>&xxe;</Comments></Action>`,
      ],
      [
        'XML with an entity reference',
        'application/xml',
        `<Action><ActionName>${RESOLVE}</ActionName><Comments>&xxe;</Comments></Action>`,
      ],
      ['a JSON string', 'application/json', '"ticket.action.resolve"'],
      ['a JSON array', 'application/json', `[{"ActionName":"${RESOLVE}"}]`],
      ['a JSON number', 'application/json', '42'],
      ['JSON null', 'application/json', 'null'],
      [
        'Comments that are not strings',
        'application/json',
        `{"ActionName":"${RESOLVE}","Comments":{"a":1}}`,
      ],
      [
        'JSON nested 30000 levels deep (it would overflow the stack further in)',
        'application/json',
        `{"ActionName":"${RESOLVE}","Comments":${'['.repeat(30_000)}${']'.repeat(30_000)}}`,
      ],
      [
        'JSON nested 33 levels deep',
        'application/json',
        `{"ActionName":"${RESOLVE}","UserID":${'{"a":'.repeat(32)}1${'}'.repeat(32)}}`,
      ],
      [
        'a comment with a control character XML cannot carry',
        'application/json',
        `{"ActionName":"${RESOLVE}","Comments":"bell \\u0007"}`,
      ],
    ])('refuses %s', async (_name, type, body) => {
      const text = await refusedOnTicket1(
        () => postAction(ada, 'ticket1.acme', { headers: { 'Content-Type': type }, body }),
        400,
      );
      expect(text).not.toContain('root:'); // no file was read
    });

    it('names the problem in the message, and its type in Problem-Type', async () => {
      const missing = await postAction(ada, 'ticket1.acme', { body: '{"Comments":"x"}' });
      expect(await expectTextError(missing, 400)).toContain('ActionName');
      expect(missing.headers.get('Problem-Type')).toBe('urn:tickets:problem:invalid-input');
      const unknown = await postAction(ada, 'ticket1.acme', {
        body: '{"ActionName":"ticket.action.explode"}',
      });
      expect(await expectTextError(unknown, 400)).toContain('ticket.action.explode');
      expect(unknown.headers.get('Problem-Type')).toBe('urn:tickets:problem:unknown-action');
      const doctype = await postAction(ada, 'ticket1.acme', {
        headers: { 'Content-Type': 'application/xml' },
        body: '<!DOCTYPE Action><Action/>',
      });
      expect(await expectTextError(doctype, 400)).toMatch(/DOCTYPE/);
      expect(doctype.headers.get('Problem-Type')).toBe('urn:tickets:problem:malformed-body');
    });
  });

  describe('400: bytes that are not text in the declared charset', () => {
    const bytes = (...parts: (string | number[])[]): Buffer =>
      Buffer.concat(
        parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
      );

    it.each([
      [
        'JSON with a byte that is not UTF-8',
        'application/json',
        bytes(`{"ActionName":"${RESOLVE}","Comments":"M`, [0xfc], 'ller"}'),
      ],
      [
        'XML with a truncated UTF-8 sequence',
        'application/xml; charset=utf-8',
        bytes(
          `<Action><ActionName>${RESOLVE}</ActionName><Comments>M`,
          [0xc3],
          '</Comments></Action>',
        ),
      ],
      [
        'US-ASCII with a byte over 127',
        'application/json; charset=us-ascii',
        bytes(`{"ActionName":"${RESOLVE}","Comments":"M`, [0xfc], 'ller"}'),
      ],
      [
        'XML declaring UTF-8 with a Latin-1 byte',
        'application/xml',
        bytes(
          `<?xml version="1.0" encoding="UTF-8"?><Action><ActionName>${RESOLVE}</ActionName><Comments>M`,
          [0xfc],
          'ller</Comments></Action>',
        ),
      ],
      [
        'XML really in UTF-16 (its byte order mark and all)',
        'application/xml',
        Buffer.from(
          `\uFEFF<?xml version="1.0" encoding="UTF-16"?><Action><ActionName>${RESOLVE}</ActionName></Action>`,
          'utf16le',
        ),
      ],
    ])('refuses %s, storing nothing (never U+FFFD)', async (_name, type, body) => {
      const text = await refusedOnTicket1(
        () => postAction(ada, 'ticket1.acme', { headers: { 'Content-Type': type }, body }),
        400,
      );
      expect(text).toMatch(/UTF-8|US-ASCII/);
    });
  });

  describe('406: Accept', () => {
    it.each(['application/json', 'application/xml', 'text/html', 'text/plain;q=0', 'image/*'])(
      'refuses Accept: %s',
      async (accept) => {
        await refusedOnTicket1(
          () => postAction(ada, 'ticket1.acme', { headers: { Accept: accept } }),
          406,
        );
      },
    );
  });

  describe('409: state', () => {
    it('refuses an action the state does not offer, naming the state and the valid actions', async () => {
      const before = await snapshot(server.url, bob, 'ticket3.acme');
      expect(before.ticket.State).toBe('CLOSED');
      const text = await expectTextError(await postAction(ada, 'ticket3.acme'), 409);
      expect(text).toContain('CLOSED');
      expect(text).toContain(REOPEN);
      expect(text).toContain(RESOLVE);
      expect(await snapshot(server.url, bob, 'ticket3.acme')).toEqual(before);
    });
  });

  describe('412: If-Match', () => {
    it('refuses a version the ticket is not at', async () => {
      const { ticket } = await snapshot(server.url, bob, 'ticket1.acme');
      const text = await refusedOnTicket1(
        () =>
          postAction(ada, 'ticket1.acme', { headers: { 'If-Match': `"${ticket.Version + 1}"` } }),
        412,
      );
      expect(text).toContain(String(ticket.Version));
    });
  });

  describe('413: body size', () => {
    /** A valid action body padded with spaces to exactly `size` bytes. */
    const padded = (size: number): string => {
      const body = `{"ActionName":"${RESOLVE}"}`;
      return body + ' '.repeat(size - Buffer.byteLength(body));
    };

    it('refuses a body over 64 KiB and accepts one of exactly 64 KiB', async () => {
      await refusedOnTicket1(
        () => postAction(ada, 'ticket1.acme', { body: padded(64 * 1024 + 1) }),
        413,
      );
      // Exactly 64 KiB is within the limit (a dry run, so nothing is written).
      const exact = await postAction(ada, 'ticket1.acme', {
        body: padded(64 * 1024),
        query: '?dryRun=true',
      });
      expect({ status: exact.status, text: await exact.text() }).toEqual({
        status: 200,
        text: 'RESOLVED',
      });
    });

    /**
     * Sends the headers and a first chunk only, then waits for the answer. The request is never
     * ended, so the answer proves the server refused before reading the body.
     */
    function sendPartially(
      headers: Record<string, string>,
      chunks: readonly string[],
    ): Promise<{ response: IncomingMessage; text: string; bytesSent: number; ended: boolean }> {
      const { hostname, port } = new URL(server.url);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          req.destroy();
          reject(new Error('no answer while the body was still being sent'));
        }, 10_000);
        const req = httpRequest({
          host: hostname,
          port,
          method: 'POST',
          path: actionsPath('ticket1.acme'),
          headers,
        });
        let bytesSent = 0;
        req.on('response', (response) => {
          const ended = req.writableEnded;
          const parts: Buffer[] = [];
          response.on('data', (chunk: Buffer) => parts.push(chunk));
          response.on('end', () => {
            clearTimeout(timer);
            req.destroy();
            resolve({ response, text: Buffer.concat(parts).toString('utf8'), bytesSent, ended });
          });
        });
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.flushHeaders();
        for (const chunk of chunks) {
          bytesSent += Buffer.byteLength(chunk);
          req.write(chunk);
        }
      });
    }

    it('refuses a declared 10 MiB body before reading it', async () => {
      const before = await snapshot(server.url, bob, 'ticket1.acme');
      const { response, text, bytesSent, ended } = await sendPartially(
        {
          Cookie: ada.cookie,
          'X-Csrf-Token_acme': ada.csrf,
          'Content-Type': 'application/json',
          'Content-Length': '10485760',
        },
        [`{"ActionName":"${RESOLVE}","Comments":"`],
      );
      expect(ended).toBe(false);
      expect(bytesSent).toBeLessThan(100);
      expect(response.statusCode).toBe(413);
      expect(mediaTypeOf(response.headers['content-type'])).toBe('text/plain');
      expect(response.headers['x-request-id']).toBeTruthy();
      expect(text).toMatch(/64 KiB/);
      expect(await snapshot(server.url, bob, 'ticket1.acme')).toEqual(before);
    });

    it('refuses a chunked body as soon as it passes 64 KiB, without waiting for its end', async () => {
      const before = await snapshot(server.url, bob, 'ticket1.acme');
      const { response, bytesSent, ended } = await sendPartially(
        {
          Cookie: ada.cookie,
          'X-Csrf-Token_acme': ada.csrf,
          'Content-Type': 'application/json',
          'Transfer-Encoding': 'chunked',
        },
        [`{"ActionName":"${RESOLVE}","Comments":"`, 'x'.repeat(40 * 1024), 'x'.repeat(40 * 1024)],
      );
      expect(ended).toBe(false);
      expect(bytesSent).toBeLessThan(100 * 1024);
      expect(response.statusCode).toBe(413);
      expect(await snapshot(server.url, bob, 'ticket1.acme')).toEqual(before);
    });
  });

  describe('415: Content-Type', () => {
    it.each([
      ['text/plain', 'text/plain'],
      ['text/plain with charset', 'text/plain; charset=UTF-8'],
      ['a form', 'application/x-www-form-urlencoded'],
      ['problem+json', 'application/problem+json'],
      ['an unknown vnd.soa version', 'application/vnd.soa.v99+json'],
      ['text/xml', 'text/xml'],
      ['a malformed header', 'application/json; charset'],
      ['a charset other than UTF-8 (utf-16le)', 'application/json; charset=utf-16le'],
      ['a charset that is no charset (base64)', 'application/json; charset=base64'],
      ['an unknown charset', 'application/xml; charset=klingon'],
    ])('refuses %s', async (_name, type) => {
      await refusedOnTicket1(
        () => postAction(ada, 'ticket1.acme', { headers: { 'Content-Type': type } }),
        415,
      );
    });

    it.each(['gzip', 'deflate', 'br'])(
      'refuses a body with Content-Encoding %s',
      async (encoding) => {
        await refusedOnTicket1(
          () =>
            postAction(ada, 'ticket1.acme', {
              headers: { 'Content-Type': 'application/json', 'Content-Encoding': encoding },
            }),
          415,
        );
      },
    );

    it('answers a method the endpoint does not have in text too (405)', async () => {
      const response = await call(server.url, ada, actionsPath('ticket1.acme'), { method: 'PUT' });
      expect(response.status).toBe(405);
      expect(mediaTypeOf(response.headers.get('content-type') ?? '')).toBe('text/plain');
      expect(response.headers.get('allow')).toContain('POST');
    });

    it('refuses a request without Content-Type', async () => {
      const before = await snapshot(server.url, bob, 'ticket1.acme');
      const response = await raw(server.url, {
        path: actionsPath('ticket1.acme'),
        headers: { Cookie: ada.cookie, 'X-Csrf-Token_acme': ada.csrf },
        body: resolveJson,
      });
      expect(response.status).toBe(415);
      expect(mediaTypeOf(response.headers['content-type'])).toBe('text/plain');
      expect(response.headers['x-request-id']).toBeTruthy();
      expect(response.text).toContain('application/json');
      expect(await snapshot(server.url, bob, 'ticket1.acme')).toEqual(before);
    });
  });

  describe('422: Idempotency-Key', () => {
    it('refuses a key reused with a different body, and nothing changes', async () => {
      const key = 'error-table-422';
      // The first use: a dry-run-free refusal (409 on the CLOSED ticket3) is stored with the key.
      const first = await postAction(ada, 'ticket3.acme', { headers: { 'Idempotency-Key': key } });
      expect(first.status).toBe(409);
      const before = await snapshot(server.url, bob, 'ticket3.acme');
      const text = await expectTextError(
        await postAction(ada, 'ticket3.acme', {
          headers: { 'Idempotency-Key': key },
          body: JSON.stringify({ ActionName: REOPEN }),
        }),
        422,
      );
      expect(text).toMatch(/Idempotency-Key/);
      expect(await snapshot(server.url, bob, 'ticket3.acme')).toEqual(before);
    });
  });

  describe('the order of checks: session, CSRF, 415, 413, 400, 404, 403, 412, 409', () => {
    const huge = `{"ActionName":"${RESOLVE}","Comments":"${'x'.repeat(70 * 1024)}"}`;

    it('checks the session before anything else', async () => {
      await refusedOnTicket1(
        () =>
          call(server.url, undefined, actionsPath('ticket999.acme'), {
            method: 'POST',
            headers: { 'Content-Type': 'text/plain', Accept: 'application/json' },
            body: huge,
          }),
        401,
      );
    });

    it('checks CSRF before the Content-Type, the body and the ticket', async () => {
      await expectTextError(
        await postAction(ada, 'ticket999.acme', {
          noCsrf: true,
          headers: { 'Content-Type': 'text/plain' },
          body: huge,
        }),
        401,
      );
    });

    it('checks the Content-Type before the size of the body', async () => {
      await expectTextError(
        await postAction(ada, 'ticket999.acme', {
          headers: { 'Content-Type': 'text/plain' },
          body: huge,
        }),
        415,
      );
    });

    it('checks the size before parsing', async () => {
      await expectTextError(await postAction(ada, 'ticket999.acme', { body: `{${huge}` }), 413);
    });

    it('parses before looking up the ticket', async () => {
      await expectTextError(
        await postAction(ada, 'ticket999.acme', { body: '{"Comments":"x"}' }),
        400,
      );
      await expectTextError(
        await postAction(ada, 'ticket999.acme', {
          headers: { 'Content-Type': 'application/xml' },
          body: '<!DOCTYPE Action><Action/>',
        }),
        400,
      );
    });

    it('refuses an action unknown to the workflow before looking up the ticket', async () => {
      await expectTextError(
        await postAction(ada, 'ticket999.acme', { body: '{"ActionName":"ticket.action.explode"}' }),
        400,
      );
    });

    it('looks up the ticket before the rights', async () => {
      await expectTextError(await postAction(carol, 'ticket999.acme'), 404);
    });

    it('checks the rights before If-Match', async () => {
      await refusedOnTicket1(
        () => postAction(carol, 'ticket1.acme', { headers: { 'If-Match': '"999"' } }),
        403,
      );
    });

    it('checks If-Match before the state', async () => {
      const before = await snapshot(server.url, bob, 'ticket3.acme');
      await expectTextError(
        await postAction(ada, 'ticket3.acme', { headers: { 'If-Match': '"999"' } }),
        412,
      );
      expect(await snapshot(server.url, bob, 'ticket3.acme')).toEqual(before);
    });
  });

  describe('X-Request-Id', () => {
    it('is on every answer of the endpoint, success and failure alike', async () => {
      const answers = [
        await call(server.url, undefined, actionsPath('ticket1.acme'), { method: 'POST' }),
        await postAction(ada, 'ticket1.acme', { headers: { 'Content-Type': 'text/plain' } }),
        await postAction(ada, 'ticket1.acme', { query: '?dryRun=true' }),
      ];
      const ids = answers.map((response) => response.headers.get('X-Request-Id'));
      for (const id of ids) expect(id).toMatch(UUID);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('logs each answer under its id, with the status that was answered', async () => {
      const cases: [string, Record<string, string>, string, number][] = [
        ['log-401', { 'X-Csrf-Token_acme': 'wrong' }, 'ticket1.acme', 401],
        ['log-409', {}, 'ticket3.acme', 409],
        ['log-415', { 'Content-Type': 'text/plain' }, 'ticket1.acme', 415],
      ];
      for (const [id, headers, ticketId, status] of cases) {
        const response = await postAction(ada, ticketId, {
          headers: { ...headers, 'X-Request-Id': id },
        });
        expect(response.status).toBe(status);
        expect(response.headers.get('X-Request-Id')).toBe(id);
        await response.text();
        const line = server.logs.find(
          (entry) => entry['requestId'] === id && entry['msg'] === 'request',
        );
        expect(line).toMatchObject({ requestId: id, status, method: 'POST' });
      }
    });

    it('keeps a sane incoming X-Request-Id', async () => {
      for (const id of ['req-42', 'a1b2c3.d4:e5_f6', 'x'.repeat(128)]) {
        const response = await postAction(ada, 'ticket3.acme', { headers: { 'X-Request-Id': id } });
        expect(response.status).toBe(409);
        expect(response.headers.get('X-Request-Id')).toBe(id);
      }
    });

    it.each([
      ['spaces', 'has spaces in it'],
      ['300 characters', 'y'.repeat(300)],
      ['markup', '<script>alert(1)</script>'],
      ['a quote', 'abc"def'],
    ])('replaces an insane incoming X-Request-Id (%s)', async (_name, id) => {
      const response = await postAction(ada, 'ticket3.acme', { headers: { 'X-Request-Id': id } });
      expect(response.status).toBe(409);
      const answered = response.headers.get('X-Request-Id');
      expect(answered).not.toBe(id);
      expect(answered).toMatch(UUID);
    });
  });
});

describe('POST /api/tickets/{TicketID}/actions: 500, a fault of ours', () => {
  it('answers the generic text, and logs the detail under the same request id', async () => {
    let broken = true;
    const wrapStore = (store: Store): Store =>
      new Proxy(store, {
        get(target, property) {
          if (property === 'getTicketWithAuthor' && broken) {
            return async () => {
              throw new Error('SQLITE_IOERR: disk I/O error at /var/secret/tickets.db');
            };
          }
          const value: unknown = Reflect.get(target, property, target);
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(target)
            : value;
        },
      });
    await using server = await startTestServer({ wrapStore });
    const ada = await login(server.url, 'ada@acme.test');

    const response = await call(server.url, ada, actionsPath('ticket1.acme'), {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': 'during-the-fault',
        'X-Request-Id': 'fault-1',
      },
      body: resolveJson,
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(text).toBe(INTERNAL_MESSAGE);
    expect(mediaTypeOf(response.headers.get('Content-Type'))).toBe('text/plain');
    expect(response.headers.get('X-Request-Id')).toBe('fault-1');
    expect(response.headers.get('Idempotent-Replayed')).toBeNull();

    const logged = server.logs.filter((line) => line['requestId'] === 'fault-1');
    const failure = logged.find((line) => line['level'] === 50);
    expect(failure).toBeDefined();
    expect(JSON.stringify(failure)).toContain('SQLITE_IOERR: disk I/O error');
    expect(JSON.stringify(failure)).toContain('at '); // the stack is in the log, not the answer
    expect(logged.some((line) => line['status'] === 500)).toBe(true);

    // Once the fault is gone, the same key runs for real: a 5xx was not stored.
    broken = false;
    const retry = await call(server.url, ada, actionsPath('ticket1.acme'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'during-the-fault' },
      body: resolveJson,
    });
    expect({ status: retry.status, text: await retry.text() }).toEqual({
      status: 200,
      text: 'RESOLVED',
    });
    expect(retry.headers.get('Idempotent-Replayed')).toBeNull();
    const after = await snapshot(server.url, ada, 'ticket1.acme');
    expect(after.ticket.State).toBe('RESOLVED');
    expect(
      after.history.filter((row) => (row as { Action: string }).Action === RESOLVE),
    ).toHaveLength(1);
  });
});

describe('POST /api/tickets/{TicketID}/actions: what it accepts', () => {
  let server: TestServer;
  let ada: Session;
  let state: string;

  beforeAll(async () => {
    server = await startTestServer();
    ada = await login(server.url, 'ada@acme.test');
    state = 'RESOLVED'; // ticket2
  });
  afterAll(() => server.close());

  /** The next step of a RESOLVED ⇄ REOPEN walk on ticket2, which ada may take either way. */
  const next = (): { action: string; to: string } =>
    state === 'RESOLVED' ? { action: REOPEN, to: 'REOPEN' } : { action: RESOLVE, to: 'RESOLVED' };

  const bodyFor = (format: 'json' | 'xml', action: string, comment: string): string =>
    format === 'json'
      ? JSON.stringify({ ActionName: action, Comments: [comment] })
      : `<?xml version="1.0" encoding="UTF-8"?><Action><ActionName>${action}</ActionName><Comments>${comment}</Comments></Action>`;

  const mediaTypes = [
    'application/json',
    'application/xml',
    'application/vnd.soa.v71+json',
    'application/vnd.soa.v71+xml',
    'application/vnd.soa.v72+json',
    'application/vnd.soa.v72+xml',
    'application/vnd.soa.v80+json',
    'application/vnd.soa.v80+xml',
    'application/vnd.soa.v81+json',
    'application/vnd.soa.v81+xml',
  ];
  const contentTypes = mediaTypes.flatMap((type) => [type, `${type}; charset=UTF-8`]);

  it.each(contentTypes)('takes a body of Content-Type %s', async (contentType) => {
    const format = contentType.includes('xml') ? 'xml' : 'json';
    const { action, to } = next();
    const before = await snapshot(server.url, ada, 'ticket2.acme');
    const response = await call(server.url, ada, actionsPath('ticket2.acme'), {
      method: 'POST',
      headers: { 'Content-Type': contentType, Accept: '*/*' },
      body: bodyFor(format, action, `via ${contentType}`),
    });
    expect({ status: response.status, text: await response.text() }).toEqual({
      status: 200,
      text: to,
    });
    expect(mediaTypeOf(response.headers.get('Content-Type'))).toBe('text/plain');
    expect(response.headers.get('X-Request-Id')).toMatch(UUID);
    state = to;
    const after = await snapshot(server.url, ada, 'ticket2.acme');
    expect(after.ticket).toMatchObject({ State: to, Version: before.ticket.Version + 1 });
    expect(after.history.at(-1)).toMatchObject({
      Action: action,
      To: to,
      Comments: [`via ${contentType}`],
    });
  });

  it.each([
    ['its XML declaration, without a charset parameter', 'application/xml', 'ISO-8859-1', 'latin1'],
    ['the charset parameter', 'application/json; charset=ISO-8859-1', undefined, 'latin1'],
    [
      'UTF-8 when its XML declaration names an encoding not read here (.NET writes utf-16)',
      'application/xml',
      'utf-16',
      'utf8',
    ],
  ] as const)('reads a body by %s', async (_name, contentType, declared, bytes) => {
    const { action, to } = next();
    const text = contentType.includes('xml')
      ? `<?xml version="1.0" encoding="${declared}"?><Action><ActionName>${action}</ActionName><Comments>Straße Müller</Comments></Action>`
      : JSON.stringify({ ActionName: action, Comments: 'Straße Müller' });
    const response = await call(server.url, ada, actionsPath('ticket2.acme'), {
      method: 'POST',
      headers: { 'Content-Type': contentType },
      body: Buffer.from(text, bytes),
    });
    expect({ status: response.status, text: await response.text() }).toEqual({
      status: 200,
      text: to,
    });
    state = to;
    const after = await snapshot(server.url, ada, 'ticket2.acme');
    expect(after.history.at(-1)).toMatchObject({ Action: action, Comments: ['Straße Müller'] });
  });

  it.each([
    ['*/*', '*/*'],
    ['text/*', 'text/*'],
    ['text/plain', 'text/plain'],
    ['missing', undefined],
    ['JSON preferred, text/plain admitted', 'application/json, text/plain;q=0.1'],
    ['text/plain with charset', 'text/plain; charset=utf-8'],
  ])('answers Accept %s', async (_name, accept) => {
    const { action, to } = next();
    const response = await raw(server.url, {
      path: actionsPath('ticket2.acme'),
      headers: {
        Cookie: ada.cookie,
        'X-Csrf-Token_acme': ada.csrf,
        'Content-Type': 'application/json',
        ...(accept !== undefined && { Accept: accept }),
      },
      body: bodyFor('json', action, 'accept'),
    });
    expect({ status: response.status, text: response.text }).toEqual({ status: 200, text: to });
    expect(mediaTypeOf(response.headers['content-type'])).toBe('text/plain');
    state = to;
  });
});
