import DataLoader from 'dataloader';
import type { RequestThreads } from '../upstream/request-threads.ts';
import type { Thread } from '../upstream/threads-upstream.ts';

export type ThreadLoader = DataLoader<string, Thread | null>;

/**
 * One per GraphQL request: every read of a thread in that request goes through it, so repeated ids
 * cost one GET and distinct ids are fetched together (the request's budget bounds how many at once).
 * A 404 loads as null; any other failure is that id's own error.
 */
export function createThreadLoader(threads: RequestThreads, onBatch?: (size: number) => void): ThreadLoader {
  return new DataLoader<string, Thread | null>(
    (ids) => {
      onBatch?.(ids.length);
      return Promise.all(ids.map((id) => threads.retrieve(id).catch((error: unknown) => toError(error))));
    },
    { name: 'thread' },
  );
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
