import { describe, expect, it, vi } from 'vitest';
import type { ChangesOptions, TicketChange } from '@tickets/client';
import { LiveUpdates, observingFeed, pollIntervalMs } from '../src/services/liveUpdates.js';

const change = (eventId: number): TicketChange => ({
  eventId,
  ticketId: `ticket${eventId}.acme`,
  kind: 'action',
  action: 'ticket.action.resolve',
  from: 'OPEN',
  to: 'RESOLVED',
  version: 2,
  userId: 'ada.acme',
  at: '2026-01-01T00:00:00.000Z',
});

/** A feed the test pushes changes into, ended by the signal. */
function feed() {
  const queue: TicketChange[] = [];
  let wake: (() => void) | undefined;
  const opened: ChangesOptions[] = [];
  let fail: unknown;
  async function* changes(options: ChangesOptions): AsyncGenerator<TicketChange> {
    opened.push(options);
    while (!options.signal?.aborted) {
      if (fail) throw fail;
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        options.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }
  return {
    changes,
    opened,
    push: (c: TicketChange) => {
      queue.push(c);
      wake?.();
    },
    fail: (error: unknown) => {
      fail = error;
      wake?.();
    },
  };
}

function setUp() {
  const lines: string[] = [];
  const intervals = new Map<number, { run: () => void; ms: number }>();
  let next = 0;
  const received: TicketChange[] = [];
  const failures: unknown[] = [];
  let polls = 0;
  const source = feed();
  const live = new LiveUpdates({
    changes: source.changes,
    onChange: (c) => received.push(c),
    poll: async () => {
      polls += 1;
    },
    onFailed: (error) => failures.push(error),
    log: {
      trace: (m) => lines.push(`trace ${m}`),
      info: (m) => lines.push(`info ${m}`),
      warn: (m) => lines.push(`warn ${m}`),
      error: (m) => lines.push(`error ${m}`),
    },
    timers: {
      setInterval: (run, ms) => {
        intervals.set(++next, { run, ms });
        return next;
      },
      clearInterval: (handle) => void intervals.delete(handle as number),
    },
  });
  return { live, lines, intervals, received, failures, source, polls: () => polls };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('live updates', () => {
  it('hand on every change of the feed', async () => {
    const { live, source, received } = setUp();
    live.start({ live: true, pollIntervalSeconds: 30 });
    source.push(change(1));
    source.push(change(2));
    await settle();
    expect(received.map((c) => c.eventId)).toEqual([1, 2]);
    live.stop();
  });

  it('fall back to polling while the live channel is down, say so in the log, and stop polling when it is back', async () => {
    const { live, lines, intervals, polls } = setUp();
    live.start({ live: true, pollIntervalSeconds: 10 });
    live.feedStatus(true);
    expect(intervals.size).toBe(0);
    live.feedStatus(false);
    live.feedStatus(false);
    expect([...intervals.values()].map((i) => i.ms)).toEqual([10_000]);
    expect(lines).toContain(
      'warn live updates: the live channel is down; polling every 10 s until it is back',
    );
    [...intervals.values()][0]!.run();
    expect(polls()).toBe(1);
    live.feedStatus(true);
    expect(intervals.size).toBe(0);
    expect(lines).toContain('info live updates: connected again; polling stopped');
    // No change had come through the feed, so it starts at the end of the log: one more look
    // covers what changed between the last poll and the reconnection.
    expect(polls()).toBe(2);
    live.stop();
  });

  it('need no extra look when the feed comes back after a change it delivered (it resumes after it)', async () => {
    const { live, source, received, polls } = setUp();
    live.start({ live: true, pollIntervalSeconds: 10 });
    live.feedStatus(true);
    source.push(change(7));
    await vi.waitFor(() => expect(received).toHaveLength(1));
    live.feedStatus(false);
    live.feedStatus(true);
    expect(polls()).toBe(0);
    live.stop();
  });

  it('poll when switched off (tickets.live false), and not follow the feed', async () => {
    const { live, intervals, source, lines } = setUp();
    live.start({ live: false, pollIntervalSeconds: 3600 });
    await settle();
    expect(source.opened).toEqual([]);
    expect([...intervals.values()].map((i) => i.ms)).toEqual([3_600_000]);
    expect(lines[0]).toMatch(/live updates are off/);
    live.stop();
    expect(intervals.size).toBe(0);
  });

  it('report a feed that ends with an error waiting cannot fix, and resume after the last change when started again', async () => {
    const { live, source, failures, received } = setUp();
    live.start({ live: true, pollIntervalSeconds: 30 });
    source.push(change(7));
    await settle();
    source.fail(new Error('session gone'));
    await settle();
    expect(failures).toEqual([new Error('session gone')]);
    expect(received).toHaveLength(1);
    live.start({ live: true, pollIntervalSeconds: 30 });
    expect(source.opened[1]).toMatchObject({ lastEventId: 7 });
    live.stop();
  });

  it('keep the poll interval sane', () => {
    expect(pollIntervalMs(30)).toBe(30_000);
    expect(pollIntervalMs(0)).toBe(5_000);
    expect(pollIntervalMs(Number.NaN)).toBe(30_000);
    expect(pollIntervalMs(1e9)).toBe(3_600_000);
  });
});

describe('observingFeed', () => {
  it('reports the feed up on a 200, down on no answer or an error status; other requests pass by', async () => {
    const reports: boolean[] = [];
    let answer: () => Promise<Response> = async () => new Response('', { status: 200 });
    const fetch = observingFeed(
      () => answer(),
      (up) => reports.push(up),
    );
    await fetch('http://127.0.0.1:8080/trpc/tickets.changes?input=%7B%7D');
    answer = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(fetch('http://127.0.0.1:8080/trpc/tickets.changes')).rejects.toThrow(
      'fetch failed',
    );
    answer = async () => new Response('', { status: 503 });
    await fetch(new URL('http://127.0.0.1:8080/trpc/tickets.changes'));
    await fetch('http://127.0.0.1:8080/trpc/tickets.list');
    expect(reports).toEqual([true, false, false]);
  });

  it('does not report an attempt the client itself aborted', async () => {
    const reports: boolean[] = [];
    const abort = new AbortController();
    abort.abort();
    const fetch = observingFeed(
      async () => {
        throw new DOMException('aborted', 'AbortError');
      },
      (up) => reports.push(up),
    );
    await expect(
      fetch('http://x/trpc/tickets.changes', { signal: abort.signal }),
    ).rejects.toThrow();
    expect(reports).toEqual([]);
  });
});
