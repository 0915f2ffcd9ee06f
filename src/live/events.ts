import type { Thread } from 'openai/resources/beta/threads/threads';
import type { Run } from '../domain/run.ts';
import { TERMINAL_RUN_STATUSES } from '../domain/run.ts';
import { badUserInput } from '../errors.ts';
import type { UpstreamMessage, UpstreamRunEvent } from '../upstream/upstream-api.ts';

/**
 * What subscriptions deliver (docs/live.md). A run's events are kept in its event log in this
 * JSON form; each gets its cursor when it is delivered. Thread events are not logged: they go to
 * whoever is subscribed when they happen.
 */
export type RunEvent = UpstreamRunEvent;

/** A run event with its place in the run's log. */
export interface LoggedRunEvent {
  /** 0 for the log's first event, then one more for each. */
  readonly seq: number;
  readonly event: RunEvent;
}

export type ThreadEvent =
  | { type: 'MessageCreated'; message: UpstreamMessage }
  | { type: 'MessageUpdated'; message: UpstreamMessage }
  | { type: 'MessageDeleted'; id: string }
  | { type: 'ThreadUpdated'; thread: Thread }
  | { type: 'ThreadDeleted'; id: string }
  | { type: 'RunStatusChanged'; run: Run; cursor: string };

/** What a subscription hands its resolver: the event, with its cursor when it has one. */
export type DeliveredEvent = (RunEvent & { cursor: string }) | ThreadEvent;

/** A final status: the run will say nothing more. */
export function isFinal(event: RunEvent): boolean {
  return event.type === 'RunStatusChanged' && TERMINAL_RUN_STATUSES.has(event.run.status);
}

/** A status after which `runEvents` completes: final, or waiting on tool outputs. */
export function endsRunEvents(event: RunEvent): boolean {
  return isFinal(event) || (event.type === 'RunStatusChanged' && event.run.status === 'requires_action');
}

const CURSOR_PREFIX = 'rev2:';

/** An opaque cursor: the run, its log (the log's epoch) and the event's place in it. */
export function encodeCursor(runId: string, epoch: string, seq: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${runId}:${epoch}:${seq}`).toString('base64url');
}

/** A cursor's place; `epoch` null for a cursor of this gateway from before logs had epochs (never found again). */
export interface CursorPlace {
  epoch: string | null;
  seq: number;
}

/** The event's place in `runId`'s log, or BAD_USER_INPUT for a cursor that is malformed or of another run. */
export function decodeCursor(cursor: string, runId: string, argument: string): CursorPlace {
  const text = cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString() : '';
  const match = /^rev([12]):([A-Za-z0-9_-]{1,64}):(?:([A-Za-z0-9_-]{1,16}):)?(\d{1,9})$/.exec(text);
  if (!match || (match[1] === '2') !== (match[3] !== undefined)) {
    throw badUserInput(`${argument}: not a cursor of runEvents`, argument);
  }
  if (match[2] !== runId) throw badUserInput(`${argument}: the cursor is of another run`, argument);
  return { epoch: match[3] ?? null, seq: Number(match[4]) };
}
