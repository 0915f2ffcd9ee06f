/**
 * Keeps one request's execution from holding the event loop for long.
 *
 * graphql-js completes the lists of a page whose data has arrived in one synchronous run: an answer
 * of tens of thousands of fields (MAX_RESULT_NODES allows 50,000) holds every other request, `/health`
 * included, for tens of milliseconds, and a few such answers at once for hundreds. Each request
 * counts the list items its connections hand to execution; past PACE_ITEMS since its last pause, the
 * next list waits one turn of the event loop (setImmediate) before it is completed, so the I/O of
 * other requests gets in between. An ordinary answer (a page or two of messages) never pauses.
 */
export const PACE_ITEMS = 1_000;

/** Hands a list to execution: at once, or after one turn of the event loop. */
export type Pace = <T>(items: T[]) => T[] | Promise<T[]>;

export function createPace(): Pace {
  let sincePause = 0;
  return <T>(items: T[]) => {
    sincePause += items.length;
    if (sincePause < PACE_ITEMS) return items;
    sincePause = 0;
    return new Promise<T[]>((resolve) => setImmediate(resolve, items));
  };
}
