import { XMLParser } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, type Session } from './support/client.js';
import { INVALID_PAGING_QUERIES } from './support/pagingCases.js';
import { startTestServer, type TestServer } from './support/testServer.js';
import { trpcQuery } from './support/trpc.js';

/**
 * Paging a ticket's history (REST `start`/`count`, tRPC `{ id, start, count }`), over a ticket
 * with 30 entries, on whichever store the vitest project runs. Without paging the answer is the
 * one from before paging existed: every entry, oldest first, and no paging fields.
 */

interface HistoryJson {
  Action: string;
  Comments: string[];
}
interface HistoryListJson {
  totalResults?: number;
  startIndex?: number;
  History: HistoryJson[];
}
interface HistoryEntry {
  action: string;
  comments: string[];
}
interface HistoryPage {
  totalResults: number;
  startIndex: number;
  entries: HistoryEntry[];
}

const TICKET = 'ticket1.acme';
const ENTRIES = 30;
const JSON_ONLY = { Accept: 'application/json' };
/** The comment of the n-th entry (1-based) this suite writes. */
const note = (n: number): string => `note ${n}`;
const notes = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, index) => note(from + index));

describe('history paging', () => {
  let server: TestServer;
  let carol: Session;
  let gina: Session;

  const rest = (query: string): Promise<Response> =>
    call(server.url, carol, `/api/tickets/${TICKET}/history${query}`, { headers: JSON_ONLY });

  async function restJson(query: string): Promise<HistoryListJson> {
    const response = await rest(query);
    expect(response.status).toBe(200);
    return (await response.json()) as HistoryListJson;
  }

  const restNotes = (list: HistoryListJson): string[] =>
    list.History.map((entry) => entry.Comments.join());

  beforeAll(async () => {
    server = await startTestServer();
    carol = await login(server.url, 'carol@acme.test');
    gina = await login(server.url, 'gina@globex.test');
    for (let n = 1; n <= ENTRIES; n++) {
      const response = await call(server.url, carol, `/api/tickets/${TICKET}/comments`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...JSON_ONLY },
        body: JSON.stringify({ Content: note(n) }),
      });
      expect(response.status).toBe(201);
    }
  });
  afterAll(() => server.close());

  it('REST without paging: every entry, oldest first, and no paging fields (as before)', async () => {
    const whole = await restJson('');
    expect(Object.keys(whole)).toEqual(['History']);
    expect(restNotes(whole)).toEqual(notes(1, ENTRIES));
    expect(whole.History.every((entry) => entry.Action === 'comment')).toBe(true);
  });

  it('REST pages: the first, a middle one, one past the end, with totalResults and startIndex', async () => {
    const first = await restJson('?count=10');
    expect(Object.keys(first)).toEqual(['totalResults', 'startIndex', 'History']);
    expect(first).toMatchObject({ totalResults: ENTRIES, startIndex: 0 });
    expect(restNotes(first)).toEqual(notes(1, 10));

    const middle = await restJson('?start=10&count=10');
    expect(middle).toMatchObject({ totalResults: ENTRIES, startIndex: 10 });
    expect(restNotes(middle)).toEqual(notes(11, 20));

    const last = await restJson('?start=25&count=10');
    expect(restNotes(last)).toEqual(notes(26, 30));

    expect(await restJson('?start=40&count=10')).toEqual({
      totalResults: ENTRIES,
      startIndex: 40,
      History: [],
    });
  });

  it('REST: start alone pages by the default count (20); a count above 100 is clamped, not refused', async () => {
    const fromFive = await restJson('?start=5');
    expect(fromFive).toMatchObject({ totalResults: ENTRIES, startIndex: 5 });
    expect(restNotes(fromFive)).toEqual(notes(6, 25));
    const large = await restJson('?count=5000');
    expect(large).toMatchObject({ totalResults: ENTRIES, startIndex: 0 });
    expect(restNotes(large)).toEqual(notes(1, ENTRIES));
  });

  it('REST in XML: the HistoryList root carries totalResults and startIndex when paged', async () => {
    const response = await call(server.url, carol, `/api/tickets/${TICKET}/history?start=28`, {
      headers: { Accept: 'application/xml' },
    });
    expect(response.status).toBe(200);
    const parsed = new XMLParser({ parseTagValue: false }).parse(await response.text()) as {
      HistoryList: { totalResults: string; startIndex: string; History: { Comments: string }[] };
    };
    expect(parsed.HistoryList.totalResults).toBe(String(ENTRIES));
    expect(parsed.HistoryList.startIndex).toBe('28');
    expect(parsed.HistoryList.History.map((entry) => entry.Comments)).toEqual(notes(29, 30));
  });

  it.each(INVALID_PAGING_QUERIES)('REST refuses ?%s with 400 naming %s', async (query, field) => {
    const response = await rest(`?${query}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as { type: string; field: string; detail: string };
    expect(problem.type).toBe('urn:tickets:problem:invalid-input');
    expect(problem.field).toBe(field);
    expect(problem.detail).toContain(field);
  });

  it('REST: paging is no way into another tenant’s ticket: 401 (no session there), nothing of its history', async () => {
    const response = await call(server.url, gina, `/api/tickets/${TICKET}/history?count=5`, {
      headers: JSON_ONLY,
    });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain(note(1));
  });

  it('tRPC without paging answers the whole list, as before', async () => {
    const answer = await trpcQuery(server.url, carol, 'tickets.history', { id: TICKET });
    expect(answer.status).toBe(200);
    const entries = answer.body.result!.data as HistoryEntry[];
    expect(entries.map((entry) => entry.comments.join())).toEqual(notes(1, ENTRIES));
  });

  it('tRPC pages: the first, a middle one, one past the end', async () => {
    const page = async (input: object): Promise<HistoryPage> => {
      const answer = await trpcQuery(server.url, carol, 'tickets.history', {
        id: TICKET,
        ...input,
      });
      expect(answer.status).toBe(200);
      return answer.body.result!.data as HistoryPage;
    };
    const pageNotes = (answer: HistoryPage): string[] =>
      answer.entries.map((entry) => entry.comments.join());

    const first = await page({ count: 10 });
    expect(first).toMatchObject({ totalResults: ENTRIES, startIndex: 0 });
    expect(pageNotes(first)).toEqual(notes(1, 10));
    const middle = await page({ start: 10, count: 10 });
    expect(middle).toMatchObject({ totalResults: ENTRIES, startIndex: 10 });
    expect(pageNotes(middle)).toEqual(notes(11, 20));
    expect(await page({ start: 40, count: 10 })).toEqual({
      totalResults: ENTRIES,
      startIndex: 40,
      entries: [],
    });
  });

  it.each([
    [{ count: 0 }, 'count'],
    [{ count: 1.5 }, 'count'],
    [{ start: -1 }, 'start'],
    [{ start: 'x' }, 'start'],
  ])('tRPC refuses %o with 400 naming %s', async (paging, field) => {
    const answer = await trpcQuery(server.url, carol, 'tickets.history', {
      id: TICKET,
      ...paging,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error!.data).toMatchObject({ code: 'BAD_REQUEST', field });
  });
});
