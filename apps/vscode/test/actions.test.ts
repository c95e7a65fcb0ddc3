import { describe, expect, it } from 'vitest';
import { TicketsClientError, type ActOptions, type ActResult } from '@tickets/client';
import {
  actionChoices,
  actionDoneMessage,
  actionFailedMessage,
  actionLabel,
  commentPrompt,
  whyNot,
} from '../src/services/actionMenu.js';
import { ActionRunner } from '../src/services/actionRunner.js';
import { defaultActions } from './fixtures.js';

describe('the action menu', () => {
  it('lists the allowed actions first, then the blocked ones with the server’s reason', () => {
    const actions = defaultActions('OPEN', {
      'ticket.action.resolve': 'only an admin of payments.acme may resolve',
    });
    expect(actionChoices(actions)).toEqual([
      { action: 'ticket.action.close', label: 'Close', allowed: true, reason: undefined },
      {
        action: 'ticket.action.resolve',
        label: 'Resolve',
        allowed: false,
        reason: 'only an admin of payments.acme may resolve',
      },
    ]);
  });

  it('takes a custom workflow’s actions as they come, named by their label', () => {
    const actions = [
      { value: 'triage.action.escalate', label: 'Escalate', allowed: true },
      { value: 'triage.action.park', label: '', allowed: false },
    ];
    expect(actionChoices(actions).map((c) => [c.label, c.allowed, c.reason])).toEqual([
      ['Escalate', true, undefined],
      ['triage.action.park', false, 'the server does not allow it'],
    ]);
    expect(actionLabel(actions, 'triage.action.escalate')).toBe('Escalate');
    expect(actionLabel(actions, 'ticket.action.resolve')).toBe('ticket.action.resolve');
    expect(actionLabel(actions, 'ticket.action.resolve', 'Resolve')).toBe('Resolve');
  });

  it('says why an action cannot be run', () => {
    const actions = defaultActions('RESOLVED', {
      'ticket.action.reopen': 'only the author or an admin may reopen',
    });
    expect(whyNot(actions, 'ticket.action.close', 't1.acme')).toBeUndefined();
    expect(whyNot(actions, 'ticket.action.reopen', 't1.acme')).toBe(
      'Reopen is not allowed on t1.acme: only the author or an admin may reopen',
    );
    expect(whyNot(actions, 'ticket.action.resolve', 't1.acme')).toBe(
      't1.acme has no action ticket.action.resolve in its current state.',
    );
  });

  it('words the prompt and the outcome as the user sees them', () => {
    expect(commentPrompt('Resolve', 'ticket1.demo')).toMatch(/^Resolve ticket1\.demo/);
    expect(actionDoneMessage('ticket1.demo', 'RESOLVED')).toBe('ticket1.demo is now RESOLVED');
    const refused = new TicketsClientError({
      kind: 'invalid-transition',
      status: 409,
      message: 'ticket1.demo is RESOLVED; valid actions: ticket.action.close, ticket.action.reopen',
    });
    expect(actionFailedMessage('Resolve', 'ticket1.demo', refused)).toBe(
      'Resolve ticket1.demo was refused: ticket1.demo is RESOLVED; valid actions: ticket.action.close, ticket.action.reopen',
    );
    const lost = new TicketsClientError({ kind: 'network', message: 'no answer from the server' });
    expect(actionFailedMessage('Resolve', 'ticket1.demo', lost)).toMatch(
      /will not be applied twice/,
    );
  });
});

/** A server that applies each idempotency key once, and can lose its answers. */
function idempotentServer() {
  const applied = new Map<string, ActResult>();
  const requests: ActOptions[] = [];
  let loseAnswers = 0;
  let refuse: TicketsClientError | undefined;
  const act = async (_id: string, options: ActOptions): Promise<ActResult> => {
    requests.push(options);
    if (refuse) throw refuse;
    const key = options.idempotencyKey!;
    const first = applied.get(key);
    const result = first
      ? { ...first, replayed: true }
      : { state: 'RESOLVED' as const, version: applied.size + 2, replayed: false };
    if (!first) applied.set(key, result);
    if (loseAnswers > 0) {
      loseAnswers -= 1;
      throw new TicketsClientError({ kind: 'network', message: 'the connection was cut' });
    }
    return result;
  };
  return {
    act,
    applied,
    requests,
    loseNext: (n: number) => (loseAnswers = n),
    refuseWith: (error: TicketsClientError | undefined) => (refuse = error),
  };
}

describe('running an action', () => {
  let keys = 0;
  const newKey = () => `key-${++keys}`;

  it('sends an idempotency key, and the comment when there is one', async () => {
    const server = idempotentServer();
    const runner = new ActionRunner(server.act, newKey);
    await runner.run('t1.acme', 'ticket.action.resolve', 'Fixed in 2.4.1');
    await runner.run('t2.acme', 'ticket.action.resolve', '  ');
    expect(server.requests[0]).toEqual({
      action: 'ticket.action.resolve',
      comments: 'Fixed in 2.4.1',
      idempotencyKey: expect.any(String),
    });
    expect(server.requests[1]).toEqual({
      action: 'ticket.action.resolve',
      idempotencyKey: expect.any(String),
    });
    expect(server.requests[0]!.idempotencyKey).not.toBe(server.requests[1]!.idempotencyKey);
  });

  it('retried after a lost answer, applies once: the retry reuses the key and gets the replay', async () => {
    const server = idempotentServer();
    const runner = new ActionRunner(server.act, newKey);
    server.loseNext(1);
    await expect(runner.run('t1.acme', 'ticket.action.resolve', 'Fixed')).rejects.toMatchObject({
      kind: 'network',
    });
    expect(server.applied.size).toBe(1);
    expect(runner.isRetry('t1.acme', 'ticket.action.resolve', 'Fixed')).toBe(true);
    const retried = await runner.run('t1.acme', 'ticket.action.resolve', 'Fixed');
    expect(retried).toMatchObject({ state: 'RESOLVED', replayed: true });
    expect(server.applied.size).toBe(1);
    expect(server.requests[1]!.idempotencyKey).toBe(server.requests[0]!.idempotencyKey);
    // Done: the next run of the same action is a new request.
    expect(runner.isRetry('t1.acme', 'ticket.action.resolve', 'Fixed')).toBe(false);
  });

  it('uses a new key once the outcome is known (a refusal), or for another comment', async () => {
    const server = idempotentServer();
    const runner = new ActionRunner(server.act, newKey);
    server.refuseWith(
      new TicketsClientError({ kind: 'forbidden', status: 403, message: 'not an admin' }),
    );
    await expect(runner.run('t1.acme', 'ticket.action.resolve', 'x')).rejects.toMatchObject({
      kind: 'forbidden',
    });
    expect(runner.isRetry('t1.acme', 'ticket.action.resolve', 'x')).toBe(false);
    server.refuseWith(undefined);
    server.loseNext(1);
    await expect(runner.run('t1.acme', 'ticket.action.resolve', 'x')).rejects.toMatchObject({
      kind: 'network',
    });
    await runner.run('t1.acme', 'ticket.action.resolve', 'another comment');
    const [, lost, other] = server.requests;
    expect(other!.idempotencyKey).not.toBe(lost!.idempotencyKey);
  });

  it('forgets pending keys on sign-out (keys belong to the user)', async () => {
    const server = idempotentServer();
    const runner = new ActionRunner(server.act, newKey);
    server.loseNext(1);
    await expect(runner.run('t1.acme', 'ticket.action.close', '')).rejects.toThrow();
    runner.clear();
    expect(runner.isRetry('t1.acme', 'ticket.action.close', '')).toBe(false);
  });
});
