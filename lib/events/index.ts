export { type EventAppOptions, eventApp } from './app.ts';
export { type Parsed, parseEvent } from './parse.ts';
export type { DropEvent, HandlerContext, ObjectRef, Outcome } from './types.ts';
