import { createHash } from 'node:crypto';
import { addUsage, type Db, type SqlAccess } from './sql-access.ts';
import type { IdempotencyRecord } from './store.ts';
import { idempotencyBytes } from './stored-bytes.ts';

/** Idempotency keys past their expiry are deleted at most this often. */
const PURGE_INTERVAL_MS = 60_000;

/** Idempotency keys are scoped by the caller's API key: only a digest of the pair is stored. */
function keyDigest(scopedKey: string): string {
  return createHash('sha256').update(scopedKey).digest('hex');
}

/** Remembered create answers on SQL: counted against the quota, purged once expired. */
export class SqlIdempotency {
  readonly #access: SqlAccess;
  #lastPurge = 0;

  constructor(access: SqlAccess) {
    this.#access = access;
  }

  get(scopedKey: string): Promise<IdempotencyRecord | undefined> {
    return this.#access.read(async () => {
      const row = await this.#access.reader
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('key', '=', keyDigest(scopedKey))
        .where('expires_at', '>', this.#access.now())
        .executeTakeFirst();
      return row && { fingerprint: row.fingerprint, answer: row.answer, expiresAt: Number(row.expires_at) };
    });
  }

  /** Counted against the quota, never refused: the create it remembers is already made (see `withQuota`). */
  put(scopedKey: string, record: IdempotencyRecord): Promise<void> {
    const now = this.#access.now();
    const purge = this.#purgeDue(now);
    const key = keyDigest(scopedKey);
    const bytes = idempotencyBytes(record);
    return this.#access.write(async (trx) => {
      let freed = purge ? await this.#purgeExpired(trx, now) : 0;
      // Replacing a key gives the old answer's bytes back. Each deleted row is returned to one
      // deleter only, so concurrent writers never give the same bytes back twice.
      const replaced = await trx.deleteFrom('idempotency_keys').where('key', '=', key).returning('bytes').execute();
      for (const row of replaced) freed += Number(row.bytes);
      // A concurrent put of the same key that committed first keeps its answer (and its count).
      const inserted = await trx
        .insertInto('idempotency_keys')
        .values({ key, fingerprint: record.fingerprint, answer: record.answer, expires_at: record.expiresAt, bytes })
        .onConflict((conflict) => conflict.column('key').doNothing())
        .executeTakeFirst();
      await addUsage(trx, (Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0 ? bytes : 0) - freed);
    });
  }

  /**
   * The create's claim on PostgreSQL, which several processes may share: one upsert takes a key no
   * one holds, renews the holder's own claim, or takes over a claim that lapsed (its holder died),
   * and answers whether `holder` holds it now. SQLite is one process's (docs/storage.md): its
   * process's queue per key is the claim, and no write (and fsync) is spent on it.
   */
  async claim(scopedKey: string, holder: string, untilMs: number): Promise<boolean> {
    if (this.#access.dialect !== 'postgres') return true;
    const now = this.#access.now();
    const claimed = await this.#access.write((trx) =>
      trx
        .insertInto('idempotency_claims')
        .values({ key: keyDigest(scopedKey), holder, expires_at: untilMs })
        .onConflict((conflict) =>
          conflict
            .column('key')
            .doUpdateSet({ holder, expires_at: untilMs })
            .where((eb) =>
              eb.or([eb('idempotency_claims.holder', '=', holder), eb('idempotency_claims.expires_at', '<=', now)]),
            ),
        )
        .returning('key')
        .executeTakeFirst(),
    );
    return claimed !== undefined;
  }

  async release(scopedKey: string, holder: string): Promise<void> {
    if (this.#access.dialect !== 'postgres') return;
    await this.#access.write((trx) =>
      trx
        .deleteFrom('idempotency_claims')
        .where('key', '=', keyDigest(scopedKey))
        .where('holder', '=', holder)
        .execute(),
    );
  }

  /**
   * Expired answers give their bytes back even when no new key arrives to purge them: a full
   * quota refuses creates, so no put may come until it does. `usedBytes` calls this first.
   */
  async purgeIfDue(): Promise<void> {
    const now = this.#access.now();
    if (!this.#purgeDue(now)) return;
    await this.#access.write(async (trx) => {
      const freed = await this.#purgeExpired(trx, now);
      await addUsage(trx, -freed);
    });
  }

  #purgeDue(now: number): boolean {
    if (now - this.#lastPurge < PURGE_INTERVAL_MS) return false;
    this.#lastPurge = now;
    return true;
  }

  /** Deletes expired idempotency answers; returns the bytes they counted. */
  async #purgeExpired(trx: Db, now: number): Promise<number> {
    const rows = await trx.deleteFrom('idempotency_keys').where('expires_at', '<=', now).returning('bytes').execute();
    return rows.reduce((sum, row) => sum + Number(row.bytes), 0);
  }
}
