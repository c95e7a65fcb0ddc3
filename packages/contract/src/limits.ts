import { ACTION_INPUT_LIMITS } from '@tickets/domain';

/**
 * Every limit of the API, written once. The server enforces them, the client's types carry them
 * and the OpenAPI document states them: all three read them from here.
 */
export const LIMITS = {
  title: 200,
  description: 20_000,
  /** One tag or label. */
  listItem: 64,
  tags: 20,
  labels: 1,
  actionName: ACTION_INPUT_LIMITS.actionName,
  comment: ACTION_INPUT_LIMITS.comment,
  comments: ACTION_INPUT_LIMITS.comments,
  email: 320,
  password: 1024,
  /** An id to filter a list by. */
  filterId: 300,
  /** Paging: `count` defaults to 20, a larger value than 100 is clamped to 100. */
  defaultCount: 20,
  maxCount: 100,
  maxStart: 1_000_000,
  idempotencyKey: 255,
  /** Request bodies, REST and tRPC alike. */
  bodyBytes: 64 * 1024,
} as const;

/** What an `Idempotency-Key` may be: 1 to 255 visible ASCII characters. */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;
