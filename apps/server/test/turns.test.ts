// Turns: the losers of a race on one ticket run again one at a time, other tickets' freely.
import { describe, expect, it } from 'vitest';
import { Turns } from '../src/service/turns.js';
import { gate } from './support/heldChecks.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Turns', () => {
  it('runs the tasks of one key one at a time, in the order they came; other keys at once', async () => {
    const turns = new Turns();
    const first = gate();
    const started: string[] = [];
    const task = (name: string, hold?: Promise<void>) => async () => {
      started.push(name);
      await hold;
      return name;
    };
    const runs = [
      turns.run('ticket1', task('a', first.promise)),
      turns.run('ticket1', task('b')),
      turns.run('ticket2', task('c')),
      turns.run('ticket1', task('d')),
    ];
    await settle();
    expect(started).toEqual(['a', 'c']);
    expect(turns.busy('ticket1')).toBe(true);
    first.open();
    expect(await Promise.all(runs)).toEqual(['a', 'b', 'c', 'd']);
    expect(started).toEqual(['a', 'c', 'b', 'd']);
    await settle();
    expect(turns.busy('ticket1')).toBe(false);
  });

  it("a task that fails is its caller's failure; the next task of the key runs all the same", async () => {
    const turns = new Turns();
    const failed = turns.run('ticket1', async () => {
      throw new Error('the store failed');
    });
    const next = turns.run('ticket1', async () => 'next');
    await expect(failed).rejects.toThrow('the store failed');
    expect(await next).toBe('next');
    await settle();
    expect(turns.busy('ticket1')).toBe(false);
  });
});
