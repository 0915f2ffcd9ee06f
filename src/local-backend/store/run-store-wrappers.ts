import type { RunStore } from './run-store.ts';

/**
 * The run store behind `withQuota`: creates of assistants and runs, updates that grow an assistant,
 * and transitions that grow a run (tool rounds with their outputs, metadata) or write a message are
 * checked as thread and message creates are; other transitions, reads and deletes go through (a
 * run must always be able to finish, fail or be cancelled).
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
      let growth = message ? bytes(message) : 0;
      if (patch.rounds !== undefined || patch.metadata !== undefined) {
        const before = await runs.getRun(threadId, id);
        if (before) {
          const { rounds, ...fields } = patch;
          const after = { run: { ...before.run, ...fields }, rounds: rounds ?? before.rounds };
          growth += bytes(after) - bytes({ run: before.run, rounds: before.rounds });
        }
      }
      await check(growth);
      return runs.transitionRun(threadId, id, from, patch, message);
    },
    getAssistant: (id) => runs.getAssistant(id),
    async updateAssistant(id, patch) {
      const before = await runs.getAssistant(id);
      if (before) await check(bytes({ ...before, ...patch }) - bytes(before));
      return runs.updateAssistant(id, patch);
    },
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
