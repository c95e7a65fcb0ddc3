/**
 * BASELINE, not the product: a plain `node:http` + better-sqlite3 server for the benchmark
 * (`npm run bench`), with `synchronous = NORMAL` (a commit survives a crash of the process, not
 * a power cut). Per action: one session read, then the conditional update and the history row
 * in one transaction. It works on the product's database file, on the same rows.
 *
 *   node --import tsx bench/baselineSqliteServer.ts PORT DB_PATH   (TICKETS_SECRET in the env)
 */
import Database from 'better-sqlite3';
import { serveBaseline, TRANSITIONS } from './baselineHttp.js';

const [port, path] = process.argv.slice(2);
const secret = process.env['TICKETS_SECRET'];
if (!port || !path || !secret) throw new Error('usage: PORT DB_PATH, with TICKETS_SECRET set');

const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');

const readSession = db.prepare(
  'SELECT user_id, csrf_token FROM sessions WHERE id = ? AND ended_at IS NULL AND expires_at > ?',
);
const readState = db.prepare('SELECT state FROM tickets WHERE id = ?').pluck();
const update = db.prepare(
  `UPDATE tickets SET state = @to, step = @step, updated = @now, version = version + 1
   WHERE id = @id AND state = @from`,
);
const insertHistory = db.prepare(
  `INSERT INTO history (ticket_id, action, from_state, to_state, comments, user_id, created)
   VALUES (@id, @action, @from, @to, '[]', @user, @now)`,
);

const act = db.transaction(
  (id: string, action: 'resolve' | 'reopen', user: string): string | undefined => {
    const transition = TRANSITIONS[action];
    const from = readState.get(id) as string | undefined;
    if (!from || !(transition.from as readonly string[]).includes(from)) return undefined;
    const now = new Date().toISOString();
    const params = { id, from, to: transition.to, step: transition.step, now, user, action };
    if (update.run(params).changes !== 1) return undefined;
    insertHistory.run({ ...params, action: `ticket.action.${action}` });
    return transition.to;
  },
);

serveBaseline(Number(port), secret, async ({ sessionId, csrf, ticketId, action }) => {
  const session = readSession.get(sessionId, Date.now()) as
    { user_id: string; csrf_token: string } | undefined;
  if (!session || session.csrf_token !== csrf) return { status: 401, text: 'unauthenticated' };
  const state = act.immediate(ticketId, action, session.user_id);
  return state ? { status: 200, text: state } : { status: 409, text: 'conflict' };
});
