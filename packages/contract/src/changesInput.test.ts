import { describe, expect, it } from 'vitest';
import { ChangesInput } from './schemas.js';

describe('ChangesInput: where a live feed resumes', () => {
  it('takes any eventId a store hands out, up to the largest safe integer, as a number or as SSE text', () => {
    // PostgreSQL's eventIds are transaction ids times 1024: sixteen digits are reachable.
    for (const id of [0, 42, 3_221_225_472_000, Number.MAX_SAFE_INTEGER]) {
      expect(ChangesInput.parse({ lastEventId: id })).toEqual({ lastEventId: id });
      expect(ChangesInput.parse({ lastEventId: String(id) })).toEqual({ lastEventId: id });
    }
    expect(ChangesInput.parse({})).toEqual({});
  });

  it('refuses what no store hands out: past the safe integers, negative, or not a number', () => {
    for (const lastEventId of [
      '9007199254740992',
      '12345678901234567',
      Number.MAX_SAFE_INTEGER + 1,
      -1,
      1.5,
      '-1',
      '1e3',
      'x',
      '',
    ]) {
      expect(ChangesInput.safeParse({ lastEventId }).success, String(lastEventId)).toBe(false);
    }
  });
});
