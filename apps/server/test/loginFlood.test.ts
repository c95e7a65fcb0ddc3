// Login floods cannot starve the server: password checks (scrypt) are bounded process-wide, the
// surplus is refused at once with 503 and Retry-After, and other requests keep being served.
import { describe, expect, it } from 'vitest';
import { PasswordChecks } from '../src/service/passwordChecks.js';
import { act, login } from './support/client.js';
import { PASSWORD } from './support/fixtures.js';
import { gate, HeldChecks } from './support/heldChecks.js';
import { eventually } from './support/trpc.js';
import { startTestServer } from './support/testServer.js';

describe('PasswordChecks', () => {
  it('runs at most `concurrency` checks at once, queues up to `queueLimit`, refuses beyond', async () => {
    const checks = new PasswordChecks(2, 3);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const runs = gates.map((g, i) =>
      checks.run(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(checks.saturated).toBe(true);
    expect(checks.run(async () => 'never')).toBe('busy');

    // A finished check hands its slot to the first in line.
    gates[0]!.open();
    await runs[0];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
    expect(checks.saturated).toBe(false);

    for (const g of gates) g.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('a check that throws frees its slot too', async () => {
    const checks = new PasswordChecks(1, 0);
    await expect(
      checks.run(async () => {
        throw new Error('scrypt failed');
      }),
    ).rejects.toThrow('scrypt failed');
    expect(await checks.run(async () => 'next')).toBe('next');
  });
});

describe('PasswordChecks.runInTurn (provisioning: every check must be done)', () => {
  it('runs each in its turn, one slot at a time, past the queue limit that refuses requests', async () => {
    const checks = new PasswordChecks(1, 0);
    const first = gate();
    let running = 0;
    let most = 0;
    const check = (i: number) => async () => {
      running += 1;
      most = Math.max(most, running);
      if (i === 0) await first.promise;
      await new Promise((resolve) => setImmediate(resolve));
      running -= 1;
      return i;
    };
    const runs = [0, 1, 2].map((i) => checks.runInTurn(check(i)));
    expect(checks.queued).toBe(2);
    // A request meanwhile is still refused: the limit of 0 is for `run`.
    expect(checks.run(async () => 'login')).toBe('busy');
    first.open();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(most).toBe(1);
    expect(checks.queued).toBe(0);
    expect(await checks.run(async () => 'next')).toBe('next');
  });
});

describe('PasswordChecks: checks whose clients hung up', () => {
  it('a check whose signal aborts while it waits leaves the queue without running', async () => {
    const checks = new PasswordChecks(1, 4);
    const first = gate();
    const started: string[] = [];
    const check = (name: string, hold?: Promise<void>) => async () => {
      started.push(name);
      await hold;
      return name;
    };
    const gone = new AbortController();
    const runs = [
      checks.run(check('first', first.promise)),
      checks.run(check('gone'), gone.signal),
      checks.run(check('waits')),
    ];
    expect(checks.queued).toBe(2);
    gone.abort();
    expect(checks.queued).toBe(1);
    expect(await runs[1]).toBe('abandoned');
    first.open();
    expect(await Promise.all(runs)).toEqual(['first', 'abandoned', 'waits']);
    expect(started).toEqual(['first', 'waits']);
  });

  it('a check whose signal aborts after it was given its slot runs all the same, once', async () => {
    const checks = new PasswordChecks(1, 4);
    const first = gate();
    const second = gate();
    let ran = 0;
    const late = new AbortController();
    const runs = [
      checks.run(async () => {
        await first.promise;
        return 'first';
      }),
      checks.run(async () => {
        ran += 1;
        await second.promise;
        return 'second';
      }, late.signal),
    ];
    first.open();
    await runs[0];
    // The slot has passed to the second; its client hangs up now, too late to matter.
    late.abort();
    second.open();
    expect(await Promise.all(runs)).toEqual(['first', 'second']);
    expect(ran).toBe(1);
    expect(checks.queued).toBe(0);
    expect(await checks.run(async () => 'next')).toBe('next');
  });

  it('an aborted signal is not checked at all; one that aborts after its check began changes nothing', async () => {
    const checks = new PasswordChecks(1, 0);
    let ran = 0;
    expect(await checks.run(async () => (ran += 1), AbortSignal.abort())).toBe('abandoned');
    expect(ran).toBe(0);
    const late = new AbortController();
    const hold = gate();
    const running = checks.run(async () => {
      await hold.promise;
      return 'done';
    }, late.signal);
    await Promise.resolve();
    late.abort();
    hold.open();
    expect(await running).toBe('done');
    expect(await checks.run(async () => 'next')).toBe('next');
  });
});

describe('logins whose clients hung up', () => {
  it.each([
    ['REST', '/api/login'],
    ['tRPC', '/trpc/session.login'],
  ])(
    '%s: leave the queue of password checks unchecked, and the next login is checked next',
    async (_surface, path) => {
      const checks = new HeldChecks(1, 32, 1);
      await using server = await startTestServer({ passwordChecks: checks });
      const send = (signal?: AbortSignal) =>
        fetch(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ email: 'ada@acme.test', password: PASSWORD }),
          signal: signal ?? null,
        }).then(
          (response) => response.status,
          () => 0,
        );
      // The first is checked and answered; the second holds the slot; six wait behind it.
      expect(await send()).toBe(200);
      const clients = Array.from({ length: 7 }, () => new AbortController());
      const sent = clients.map((client) => send(client.signal));
      await eventually(() => checks.ran === 2 && checks.queued === 6, 30_000);

      for (const client of clients) client.abort();
      expect(await Promise.all(sent)).toEqual(Array.from({ length: 7 }, () => 0));
      await eventually(() => checks.queued === 0, 30_000);
      checks.held.open();
      // A new login is checked right after the one that was running, not after six dead ones.
      expect(await send()).toBe(200);
      expect(checks.ran).toBe(3);
    },
  );
});

describe('a tRPC batch of logins whose client hung up', () => {
  it('leaves the queue whole, and warns of no listener leak', async () => {
    const checks = new HeldChecks(1, 32, 0);
    await using server = await startTestServer({ passwordChecks: checks });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const size = 12;
      const input = Object.fromEntries(
        Array.from({ length: size }, (_, i) => [i, { email: 'ada@acme.test', password: PASSWORD }]),
      );
      const client = new AbortController();
      const sent = fetch(
        `${server.url}/trpc/${Array.from({ length: size }, () => 'session.login').join(',')}?batch=1`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(input),
          signal: client.signal,
        },
      ).catch(() => 'hung up');
      // One check is held in its slot, the rest of the batch waits behind it.
      await eventually(() => checks.ran === 1 && checks.queued === size - 1, 30_000);
      client.abort();
      expect(await sent).toBe('hung up');
      await eventually(() => checks.queued === 0, 30_000);
      checks.held.open();
      await new Promise((resolve) => setImmediate(resolve));
      expect(checks.ran).toBe(1);
      expect(warnings.map((warning) => warning.name)).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
      checks.held.open();
    }
  });
});

describe('a login flood', () => {
  it('an action is served while 100 logins are in flight; the surplus gets 503 with Retry-After', async () => {
    await using server = await startTestServer({
      passwordChecks: new PasswordChecks(1, 16),
    });
    const ada = await login(server.url, 'ada@acme.test');
    let answered = 0;
    // Unknown accounts, each its own: every attempt costs a password check, none is throttled.
    const logins = Array.from({ length: 100 }, (_, i) =>
      fetch(`${server.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email: `flood${i}@nowhere.test`, password: 'not-a-password' }),
      }).then(async (response) => {
        answered += 1;
        return {
          status: response.status,
          retryAfter: response.headers.get('retry-after'),
          type: ((await response.json()) as { type?: string }).type,
        };
      }),
    );

    const action = await act(server.url, ada, 'ticket1.acme', 'ticket.action.resolve');
    expect(action.status).toBe(200);
    expect(action.text).toBe('RESOLVED');
    expect(answered).toBeLessThan(100); // the action did not wait for the flood to pass

    const results = await Promise.all(logins);
    const refused = results.filter((r) => r.status === 503);
    const checked = results.filter((r) => r.status === 401);
    expect(refused.length + checked.length).toBe(100);
    expect(refused.length).toBeGreaterThan(0);
    expect(checked.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.retryAfter).toBe('1');
      expect(r.type).toBe('urn:tickets:problem:unavailable');
    }
  });

  it('a login refused because the checks are saturated does not count against the account', async () => {
    // The clock stands still, so the throttle's one-second wait cannot run out on a slow machine.
    const at = new Date();
    await using server = await startTestServer({
      passwordChecks: new PasswordChecks(1, 0),
      now: () => at,
    });
    const attempt = () =>
      fetch(`${server.url}/api/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email: 'ada@acme.test', password: 'not-her-password' }),
      }).then((response) => response.status);
    // Four at once: one is checked, the other three are refused at once.
    expect((await Promise.all([attempt(), attempt(), attempt(), attempt()])).sort()).toEqual([
      401, 503, 503, 503,
    ]);
    // So only one failure counts: two more are checked (401) before the throttle answers 429.
    expect(await attempt()).toBe(401);
    expect(await attempt()).toBe(401);
    expect(await attempt()).toBe(429);
  });
});
