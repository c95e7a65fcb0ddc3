/** The one error table is declared with the operations, in @tickets/contract. */
export { ERROR_TABLE, problemType, type ErrorMapping } from '@tickets/contract';
