/**
 * BASELINE, not the product: a plain `node:http` + `pg` server for the benchmark
 * (`npm run bench`). One SQL statement, one round trip, per action: the session and CSRF check,
 * the conditional update and the history row in a single CTE, committed on its own.
 *
 *   node --import tsx bench/baselinePgServer.ts PORT DATABASE_URL SCHEMA   (TICKETS_SECRET set)
 */
import pg from 'pg';
import { serveBaseline, TRANSITIONS } from './baselineHttp.js';

const [port, url, schema] = process.argv.slice(2);
const secret = process.env['TICKETS_SECRET'];
if (!port || !url || !schema || !secret) {
  throw new Error('usage: PORT DATABASE_URL SCHEMA, with TICKETS_SECRET set');
}

const pool = new pg.Pool({
  connectionString: url,
  max: 16,
  // Kept open, as the product's pool keeps its own: closing after 10 s idle (pg's default), the
  // 16 connections ended together in the product's next runs and took its core for ~100 ms.
  idleTimeoutMillis: 0,
  options: `-c search_path=${schema}`,
});

// An idle connection that breaks is dropped by the pool; without a listener it would end the process.
pool.on('error', () => {});

const ACT = `
  WITH session AS (
    SELECT user_id FROM sessions
    WHERE id = $1 AND csrf_token = $2 AND ended_at IS NULL AND expires_at > $3
  ), before AS (
    SELECT t.id, t.state FROM tickets t, session
    WHERE t.id = $4 AND t.state = ANY($5::text[]) FOR UPDATE OF t
  ), changed AS (
    UPDATE tickets t SET state = $6, step = $7, updated = $8, version = t.version + 1
    FROM before WHERE t.id = before.id AND t.state = before.state
    RETURNING t.id, before.state AS from_state
  ), logged AS (
    INSERT INTO history (ticket_id, action, from_state, to_state, comments, user_id, created)
    SELECT changed.id, $9, changed.from_state, $6, '[]', session.user_id, $8
    FROM changed, session RETURNING id
  )
  SELECT (SELECT count(*) FROM session)::int AS authenticated, (SELECT count(*) FROM logged)::int AS done`;

serveBaseline(Number(port), secret, async ({ sessionId, csrf, ticketId, action }) => {
  const transition = TRANSITIONS[action];
  const now = new Date();
  const { rows } = await pool.query<{ authenticated: number; done: number }>(ACT, [
    sessionId,
    csrf,
    now.getTime(),
    ticketId,
    transition.from,
    transition.to,
    transition.step,
    now.toISOString(),
    `ticket.action.${action}`,
  ]);
  if (rows[0]!.authenticated === 0) return { status: 401, text: 'unauthenticated' };
  return rows[0]!.done === 1
    ? { status: 200, text: transition.to }
    : { status: 409, text: 'conflict' };
});
