import type { Actor } from '../actor.js';
import type { NotAllowedError, VersionMismatchError } from '../errors.js';
import { err, ok, type Result } from '../result.js';
import type { Ticket } from '../ticket.js';
import { checkVersion, type ApplyOptions, type HistoryEntry } from './transitions.js';

/** The history entry's `action` for a comment made without a transition. */
export const COMMENT_ACTION = 'comment';

export interface CommentAdded {
  readonly content: string;
  /** The ticket after the comment: `version` + 1, `commentCount` + 1, `updated` = now. */
  readonly ticket: Ticket;
  readonly history: HistoryEntry;
}

/** Every user of the ticket's tenant may see it, and so comment on it. */
export function canSee(actor: Actor, ticket: Pick<Ticket, 'tenant'>): boolean {
  return actor.tenant === ticket.tenant;
}

/**
 * A comment without a transition: it is recorded in the history with `From` = `To`. The content
 * was decoded at the edge (trimmed, not empty, within its limit); the checks here are the
 * rights, then the expected version.
 */
export function addComment(
  ticket: Ticket,
  content: string,
  actor: Actor,
  now: Date,
  options: ApplyOptions = {},
): Result<CommentAdded, NotAllowedError | VersionMismatchError> {
  if (!canSee(actor, ticket)) {
    return err({
      code: 'NOT_ALLOWED',
      action: COMMENT_ACTION,
      message: "only users of the ticket's tenant may comment",
    });
  }
  const stale = checkVersion(ticket, options.expectedVersion);
  if (stale) return err(stale);
  if (Number.isNaN(now.getTime())) throw new RangeError('addComment: `now` is not a valid date');
  const created = now.toISOString();
  return ok({
    content: content,
    ticket: {
      ...ticket,
      updated: created,
      version: ticket.version + 1,
      commentCount: ticket.commentCount + 1,
    },
    history: {
      action: COMMENT_ACTION,
      from: ticket.state,
      to: ticket.state,
      comments: [content],
      userId: actor.userId,
      created,
    },
  });
}
