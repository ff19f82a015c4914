/**
 * Where journals are now, for the live streams of a peer (DESIGN §10) to follow what the other
 * peers commit. No NOTIFY on commits: it would cost every commit a queue write under a global
 * lock whether anyone watches or not. A watcher polls instead, and a poll that finds every peer's
 * last batch number unchanged reads nothing more.
 */
import type pg from 'pg';
import type { HeadsAnswer, HeadsQuery, JournalHead } from '@gantry/engine';

/** The peers' last batch numbers: a commit bumps its peer's in the transaction that writes the journal. */
const MARK_SQL = "SELECT coalesce(string_agg(id || ':' || last_batch, ',' ORDER BY id), '') AS mark FROM gantry.peers";

// The watched runs by primary key, the unfinished top-level ones by status and the recent ones by
// start time (each by its index), their trees by parent_run_id (indexed), and each run's journal
// length from the last row of its primary key: index lookups, whatever the size of the store.
const HEADS_SQL = `WITH RECURSIVE roots AS (
  SELECT run_id, parent_run_id, status, started_at FROM gantry.runs WHERE run_id = ANY ($1)
  UNION
  SELECT run_id, parent_run_id, status, started_at FROM gantry.runs WHERE $2::double precision IS NOT NULL AND parent_run_id IS NULL AND status IN ('running', 'waiting')
  UNION
  SELECT run_id, parent_run_id, status, started_at FROM gantry.runs WHERE parent_run_id IS NULL AND started_at > $2::double precision
), tree AS (
  SELECT run_id, run_id AS root, parent_run_id, status, started_at, 0 AS depth FROM roots
  UNION ALL
  SELECT c.run_id, t.root, c.parent_run_id, c.status, c.started_at, t.depth + 1 FROM gantry.runs c JOIN tree t ON c.parent_run_id = t.run_id WHERE t.depth < 16
)
SELECT (SELECT max(started_at) FROM gantry.runs) AS latest,
  (SELECT coalesce(json_agg(json_build_object('runId', t.run_id, 'root', t.root, 'status', t.status, 'startedAt', t.started_at, 'topLevel', t.parent_run_id IS NULL,
    'seq', coalesce((SELECT max(e.seq) FROM gantry.events e WHERE e.run_id = t.run_id), 0))), '[]') FROM tree t)::text AS heads`;

export async function journalHeads(db: pg.Pool, query: HeadsQuery): Promise<HeadsAnswer> {
  const { mark } = (await db.query<{ mark: string }>(MARK_SQL)).rows[0]!;
  if (query.mark === mark) return { mark };
  const row = (await db.query<{ latest: number | null; heads: string }>(HEADS_SQL, [query.roots, query.startedAfter ?? null])).rows[0]!;
  return { mark, heads: JSON.parse(row.heads) as JournalHead[], ...(row.latest === null ? {} : { latestStart: row.latest }) };
}
