import type { ResponseStore } from './response-store.ts';

/**
 * The response store behind `withQuota`: a create (its input, and the messages it adds to a
 * conversation) and a transition that writes output are checked as message creates are; other
 * transitions and reads go through, so a response can always fail or be cancelled.
 */
export function withResponseQuota(responses: ResponseStore, check: (growth: number) => Promise<void>): ResponseStore {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  return {
    async createResponse(input) {
      // The input is stored twice with a conversation: in the record and as its messages.
      await check(bytes(input) + (input.conversation ? bytes(input.input) : 0));
      return responses.createResponse(input);
    },
    async transitionResponse(id, from, patch, items) {
      if (patch.output) await check(bytes(patch.output) + (items ? bytes(items) : 0));
      return responses.transitionResponse(id, from, patch, items);
    },
    getResponse: (id) => responses.getResponse(id),
    responsesInStatus: (statuses) => responses.responsesInStatus(statuses),
  };
}

/** The response store of a store that opens in the background (`openingStore`): each call waits for it. */
export function deferredResponseStore(ready: () => Promise<ResponseStore>): ResponseStore {
  return {
    createResponse: async (input) => (await ready()).createResponse(input),
    getResponse: async (id) => (await ready()).getResponse(id),
    transitionResponse: async (id, from, patch, items) => (await ready()).transitionResponse(id, from, patch, items),
    responsesInStatus: async (statuses) => (await ready()).responsesInStatus(statuses),
  };
}
