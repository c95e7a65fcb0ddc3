// Password hashes: slow, salted, self-describing (each names its scrypt parameters), so that
// hashes made with earlier parameters keep verifying after the parameters change.
import { randomBytes, scryptSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/service/passwords.js';

describe('password hashes', () => {
  it('are scrypt with N = 2^13, r = 8, p = 10 (8 MiB per check), salted anew each time', async () => {
    const first = await hashPassword('correct horse');
    const second = await hashPassword('correct horse');
    expect(first).toMatch(/^scrypt\$8192\$8\$10\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(second).not.toBe(first);
    expect(await verifyPassword('correct horse', first)).toBe(true);
    expect(await verifyPassword('correct horse', second)).toBe(true);
    expect(await verifyPassword('correct horsE', first)).toBe(false);
    expect(await verifyPassword('', first)).toBe(false);
  });

  it('verify hashes made with the earlier parameters (N = 2^15, r = 8, p = 1)', async () => {
    const salt = randomBytes(16);
    const key = scryptSync('old secret', salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 << 20 });
    const stored = `scrypt$32768$8$1$${salt.toString('base64url')}$${key.toString('base64url')}`;
    expect(await verifyPassword('old secret', stored)).toBe(true);
    expect(await verifyPassword('new secret', stored)).toBe(false);
  });

  it('compare passwords in Unicode normal form (NFKC): é typed either way is the same', async () => {
    const stored = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', stored)).toBe(true);
  });

  it('never match a malformed or foreign stored value', async () => {
    const good = await hashPassword('pw');
    for (const stored of [
      '',
      'pw',
      'bcrypt$8192$8$10$a$b',
      good.replace(/\$[^$]+$/, '$'),
      good.split('$').slice(0, 5).join('$'),
    ]) {
      expect(await verifyPassword('pw', stored)).toBe(false);
    }
  });
});
