import { describe, expect, it } from 'vitest';
import { TicketsClientError, type TicketsClient } from '@tickets/client';
import { SessionManager, type SessionState } from '../src/services/session.js';

const unauthenticated = () =>
  new TicketsClientError({
    kind: 'unauthenticated',
    status: 401,
    message: 'wrong e-mail or password',
  });

/** Accounts the fake server knows; a login checks them. */
function setUp(accounts: Record<string, string> = { 'ada@acme.test': 'right' }) {
  const secrets = new Map<string, string>();
  const settings = { serverUrl: 'http://127.0.0.1:1', tenant: 'acme', email: '' };
  const logins: string[] = [];
  let reachable = true;
  const createClient = (): TicketsClient => {
    let session: TicketsClient['session'];
    return {
      get session() {
        return session;
      },
      login: async ({ email, password }: { email: string; password: string }) => {
        logins.push(email);
        if (!reachable)
          throw new TicketsClientError({ kind: 'network', message: 'connect ECONNREFUSED' });
        if (accounts[email] !== password) throw unauthenticated();
        session = {
          userId: 'ada.acme',
          userName: 'Ada',
          tenant: 'acme',
          validUntil: new Date(Date.now() + 60_000),
          siteAdmin: false,
          adminOf: [{ id: 'payments.acme', type: 'api' }],
        };
        return {} as never;
      },
      logout: async () => {
        session = undefined;
      },
    } as unknown as TicketsClient;
  };
  const manager = new SessionManager({
    createClient,
    secrets: {
      get: async (key) => secrets.get(key),
      store: async (key, value) => void secrets.set(key, value),
      delete: async (key) => void secrets.delete(key),
    },
    settings: () => settings,
    rememberEmail: async (email) => {
      settings.email = email;
    },
    secretKey: (url, tenant, email) => `${url}|${tenant}|${email}`,
  });
  const states: SessionState['kind'][] = [];
  manager.onDidChange((state) => states.push(state.kind));
  return {
    manager,
    secrets,
    settings,
    logins,
    states,
    accounts,
    setReachable: (value: boolean) => (reachable = value),
  };
}

describe('signing in', () => {
  it('keeps the password only in the secret store and remembers the e-mail', async () => {
    const { manager, secrets, settings, states } = setUp();
    const state = await manager.signIn('ada@acme.test', 'right');
    expect(state.session.userId).toBe('ada.acme');
    expect([...secrets]).toEqual([['http://127.0.0.1:1|acme|ada@acme.test', 'right']]);
    expect(settings).toEqual({
      serverUrl: 'http://127.0.0.1:1',
      tenant: 'acme',
      email: 'ada@acme.test',
    });
    expect(states).toEqual(['signedIn']);
  });

  it('a refusal changes nothing and keeps no password', async () => {
    const { manager, secrets, settings, states } = setUp();
    await expect(manager.signIn('ada@acme.test', 'wrong')).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
    expect(secrets.size).toBe(0);
    expect(settings.email).toBe('');
    expect(states).toEqual([]);
    expect(manager.state.kind).toBe('signedOut');
  });

  it('restores the session at start-up with the kept password, and forgets a password the server refuses', async () => {
    const first = setUp();
    await first.manager.signIn('ada@acme.test', 'right');
    expect(await first.manager.restore()).toBe(true);

    const refused = setUp();
    await refused.manager.signIn('ada@acme.test', 'right');
    refused.accounts['ada@acme.test'] = 'changed';
    expect(await refused.manager.restore()).toBe(false);
    expect(refused.secrets.size).toBe(0);

    const nothing = setUp();
    expect(await nothing.manager.restore()).toBe(false);
    expect(nothing.logins).toEqual([]);
  });

  it('an unreachable server at start-up rejects (the view offers a retry) and keeps the password', async () => {
    const { manager, secrets, setReachable } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    setReachable(false);
    await expect(manager.restore()).rejects.toMatchObject({ kind: 'network' });
    expect(secrets.size).toBe(1);
  });

  it('signing out forgets the password it signed in with, even after the server setting changed', async () => {
    const { manager, secrets, settings } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    settings.serverUrl = 'http://127.0.0.1:2';
    await manager.signOut();
    expect(secrets.size).toBe(0);
  });

  it('signing out forgets the password', async () => {
    const { manager, secrets, states } = setUp();
    await manager.signIn('ada@acme.test', 'right');
    await manager.signOut();
    expect(secrets.size).toBe(0);
    expect(manager.state.kind).toBe('signedOut');
    expect(states).toEqual(['signedIn', 'signedOut']);
  });
});

describe('a 401 while signed in', () => {
  it('signs in again silently, once, with the kept password', async () => {
    const { manager, logins } = setUp();
    const { client } = await manager.signIn('ada@acme.test', 'right');
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => manager.failed(unauthenticated(), client)),
    );
    expect(outcomes).toEqual(['renewed', 'renewed', 'renewed']);
    expect(logins).toEqual(['ada@acme.test', 'ada@acme.test']);
    expect(manager.state.kind).toBe('signedIn');
  });

  it('leads back to sign-in once when that fails: one "signedOut", the rest ignored', async () => {
    const { manager, accounts, states } = setUp();
    const { client } = await manager.signIn('ada@acme.test', 'right');
    accounts['ada@acme.test'] = 'changed elsewhere';
    const outcomes = await Promise.all(
      [1, 2, 3].map(() => manager.failed(unauthenticated(), client)),
    );
    expect(outcomes.filter((o) => o === 'signedOut')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'ignored')).toHaveLength(2);
    expect(await manager.failed(unauthenticated(), client)).toBe('ignored');
    expect(states).toEqual(['signedIn', 'signedOut']);
  });

  it('ignores failures that are not about the session, and those of a replaced client', async () => {
    const { manager } = setUp();
    const { client: old } = await manager.signIn('ada@acme.test', 'right');
    await manager.signIn('ada@acme.test', 'right');
    expect(
      await manager.failed(new TicketsClientError({ kind: 'forbidden', message: 'no' }), undefined),
    ).toBe('ignored');
    expect(await manager.failed(unauthenticated(), old)).toBe('ignored');
    expect(manager.state.kind).toBe('signedIn');
  });
});
