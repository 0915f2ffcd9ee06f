import type { RunStore } from './run-store.ts';

/**
 * The run store behind `withQuota`: creates of assistants and runs, and the messages runs write,
 * are checked as thread and message creates are; transitions without a message, reads and deletes
 * go through (a run must always be able to finish, fail or be cancelled).
 */
export function withRunQuota(runs: RunStore, check: (growth: number) => Promise<void>): RunStore {
  const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  return {
    async createAssistant(input) {
      await check(bytes(input));
      return runs.createAssistant(input);
    },
    async createRun(threadId, input, messages) {
      await check(bytes({ input, messages }));
      return runs.createRun(threadId, input, messages);
    },
    async transitionRun(threadId, id, from, patch, message) {
      if (message) await check(bytes(message));
      return runs.transitionRun(threadId, id, from, patch, message);
    },
    getAssistant: (id) => runs.getAssistant(id),
    updateAssistant: (id, patch) => runs.updateAssistant(id, patch),
    deleteAssistant: (id) => runs.deleteAssistant(id),
    listAssistants: (query) => runs.listAssistants(query),
    getRun: (threadId, id) => runs.getRun(threadId, id),
    listRuns: (threadId, query) => runs.listRuns(threadId, query),
    activeRun: (threadId) => runs.activeRun(threadId),
    runsInStatus: (statuses) => runs.runsInStatus(statuses),
  };
}

/** The run store of a store that opens in the background (`openingStore`): each call waits for it. */
export function deferredRunStore(ready: () => Promise<RunStore>): RunStore {
  return {
    createAssistant: async (input) => (await ready()).createAssistant(input),
    getAssistant: async (id) => (await ready()).getAssistant(id),
    updateAssistant: async (id, patch) => (await ready()).updateAssistant(id, patch),
    deleteAssistant: async (id) => (await ready()).deleteAssistant(id),
    listAssistants: async (query) => (await ready()).listAssistants(query),
    createRun: async (threadId, input, messages) => (await ready()).createRun(threadId, input, messages),
    getRun: async (threadId, id) => (await ready()).getRun(threadId, id),
    listRuns: async (threadId, query) => (await ready()).listRuns(threadId, query),
    activeRun: async (threadId) => (await ready()).activeRun(threadId),
    transitionRun: async (threadId, id, from, patch, message) =>
      (await ready()).transitionRun(threadId, id, from, patch, message),
    runsInStatus: async (statuses) => (await ready()).runsInStatus(statuses),
  };
}
