import type { Kysely } from 'kysely';

/** A run's answer cut short is stored `incomplete`, with its reason (null for every other message). */
export function messageIncomplete() {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('messages').addColumn('incomplete_reason', 'text').execute();
    },
  };
}
