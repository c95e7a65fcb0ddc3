export { LIMITS, IDEMPOTENCY_KEY_PATTERN } from './limits.js';
export * from './errors.js';
export * from './schemas.js';
export * as wire from './wire.js';
export { XML_ROOTS } from './wire.js';
export {
  OPERATIONS,
  type OperationName,
  type Operation,
  type RestBinding,
  type AuthLevel,
  type WriteOption,
} from './operations.js';
export * as field from './fields.js';
