import type { ActOptions, ActResult } from '@tickets/client';
import { TicketsClientError } from '@tickets/client';

export type Act = (id: string, options: ActOptions) => Promise<ActResult>;

/** Failures after which the action may or may not have been applied. */
const outcomeUnknown = (error: unknown): boolean =>
  !(error instanceof TicketsClientError) ||
  error.kind === 'network' ||
  error.kind === 'internal' ||
  error.kind === 'unavailable';

/**
 * Runs workflow actions so that none applies twice. Every action carries an idempotency key;
 * the client already re-sends a lost request with the same key. When the action still ends
 * without a known outcome (no answer, a 5xx), the key is kept: running the same action on the
 * same ticket with the same comment again reuses it, so the server answers the first result
 * (`replayed`) instead of applying it again. A known outcome forgets the key.
 */
export class ActionRunner {
  private readonly pending = new Map<string, string>();

  constructor(
    private readonly act: Act,
    private readonly newKey: () => string = () => crypto.randomUUID(),
  ) {}

  private static keyOf(ticketId: string, action: string, comment: string): string {
    return JSON.stringify([ticketId, action, comment]);
  }

  /** Whether a retry of this action would reuse the key of an attempt whose outcome is unknown. */
  isRetry(ticketId: string, action: string, comment: string): boolean {
    return this.pending.has(ActionRunner.keyOf(ticketId, action, comment));
  }

  async run(ticketId: string, action: string, comment: string): Promise<ActResult> {
    const slot = ActionRunner.keyOf(ticketId, action, comment);
    const idempotencyKey = this.pending.get(slot) ?? this.newKey();
    this.pending.set(slot, idempotencyKey);
    try {
      const result = await this.act(ticketId, {
        action,
        ...(comment.trim() !== '' && { comments: comment }),
        idempotencyKey,
      });
      this.pending.delete(slot);
      return result;
    } catch (error) {
      if (!outcomeUnknown(error)) this.pending.delete(slot);
      throw error;
    }
  }

  /** Forgets every pending key (sign-out: keys are scoped to the user). */
  clear(): void {
    this.pending.clear();
  }
}
