export { type EventAppOptions, eventApp } from './app.ts';
export { type Parsed, parseEvent } from './parse.ts';
export { type DropEvent, firstRetryOr, type HandlerContext, type ObjectRef, type Outcome } from './types.ts';
