export type { BrigErrorOptions } from './brig-error.js';
export { BrigError, BrigSystemError, hasErrno, isBrigError } from './brig-error.js';
export { type ErrorCode, ErrorCodes } from './codes.js';
