import type pg from 'pg';
import type { Logger } from '../../logger.js';
import { CHANGES_CHANNEL } from './changeFeed.js';

const ANNOUNCE = `SELECT pg_notify('${CHANGES_CHANNEL}', current_schema())`;

/**
 * Announces committed changes to the watchers of every process (LISTEN/NOTIFY), after the
 * commit and in a transaction of its own. A NOTIFY inside the change's transaction would make
 * every change wait at commit for a database-wide lock PostgreSQL holds through each notifying
 * commit (notifications are queued in commit order), so concurrent changes would commit one at
 * a time. Announcements asked for while one is on its way are folded into one more. One lost to
 * a crash between the commit and here is made up by the watchers' look, once a second.
 */
export class ChangeAnnouncer {
  private sending: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger?: Logger,
  ) {}

  /** Announces that changes were committed (without waiting for it). */
  announce(): void {
    if (this.sending) {
      this.again = true;
      return;
    }
    this.sending = this.send();
  }

  /** Waits for the announcement on its way, if any (before the pool closes). */
  async idle(): Promise<void> {
    await this.sending;
  }

  private async send(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pool.query(ANNOUNCE);
      } catch (error) {
        this.logger?.warn({ err: error }, 'a change could not be announced to other processes');
      }
    } while (this.again);
    this.sending = undefined;
  }
}
