/**
 * The store's tables, in the schema `gantry` of a database of its own, and their migrations.
 *
 * `gantry.meta` says whose database this is and at which schema version; a Gantry that finds a
 * newer version than its own is refused (nothing is changed) unless the database says that
 * version is still usable by it (`compatible_from`): additive migrations keep older peers working
 * during a rolling upgrade, and a migration that does not raises `compatible_from`.
 */

/** The application a Gantry database names in gantry.meta. */
export const APPLICATION = 'gantry';

/** This Gantry's schema version. A migration to the next version goes at the end of MIGRATIONS. */
export const SCHEMA_VERSION = 1;

/** The journal format runs are written in; a peer claims only runs whose format it reads. */
export const JOURNAL_FORMAT = 1;

/** The key of the advisory lock migrations run under (one migration at a time, whatever the peers). */
export const MIGRATION_LOCK = 0x47_4e_54_52_4d_49_47; // "GNTRMIG"

/** The channel peers are woken on when work becomes ready: a hint, polling is the guarantee. */
export const WORK_CHANNEL = 'gantry_work';

export interface Migration {
  /** The version the database is at after it. */
  readonly version: number;
  /** The oldest schema version whose Gantry may still use the database after it. */
  readonly compatibleFrom: number;
  readonly sql: string;
}

// Times from the engine's clock are epoch milliseconds (double precision keeps a fake clock's
// fractions); lease times are the database's own (timestamptz, now()), so that the peers' clocks
// never decide who holds a run.
const V1 = `
CREATE SCHEMA gantry;

CREATE TABLE gantry.meta (
  singleton       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  application     text NOT NULL,
  version         integer NOT NULL,
  compatible_from integer NOT NULL,
  migrated_at     timestamptz NOT NULL DEFAULT now(),
  migrated_by     text NOT NULL
);

CREATE TABLE gantry.runs (
  run_id        text PRIMARY KEY,
  -- The top-level run of its tree (itself for a top-level run): ownership is per tree.
  root_id       text NOT NULL,
  n             bigint GENERATED ALWAYS AS IDENTITY,
  flow_name     text NOT NULL,
  flow_hash     text NOT NULL,
  flow_text     text NOT NULL,
  flow_source   text,
  parent_run_id text,
  started_at    double precision NOT NULL,
  status        text NOT NULL,
  finished_at   double precision,
  format        integer NOT NULL,
  -- Ownership (DESIGN §9), on top-level runs: the peer that carries the run on; the epoch every
  -- claim bumps and every write is fenced by; when the run may be claimed by any peer (its lease
  -- ends, or it was handed back, or a waiting run's timer is due). NULL lease_until: finished.
  owner         text,
  epoch         bigint NOT NULL DEFAULT 0,
  lease_until   timestamptz
);
CREATE INDEX runs_by_start ON gantry.runs (started_at DESC, n DESC);
CREATE INDEX runs_by_status ON gantry.runs (status, started_at DESC, n DESC);
CREATE INDEX runs_by_parent ON gantry.runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_claimable ON gantry.runs (lease_until) WHERE parent_run_id IS NULL AND lease_until IS NOT NULL;
CREATE INDEX runs_by_owner ON gantry.runs (owner) WHERE owner IS NOT NULL;

-- The journal: one row per event, seq counting from 1 within its run.
CREATE TABLE gantry.events (
  run_id  text NOT NULL REFERENCES gantry.runs (run_id),
  seq     integer NOT NULL,
  type    text NOT NULL,
  node_id text,
  json    text NOT NULL,
  PRIMARY KEY (run_id, seq)
);

-- One row per node.succeeded / node.failed: a node (or for_each item, "id[3]") completes once.
CREATE TABLE gantry.completions (
  run_id    text NOT NULL REFERENCES gantry.runs (run_id),
  node_path text NOT NULL,
  outcome   text NOT NULL,
  seq       integer NOT NULL,
  PRIMARY KEY (run_id, node_path)
);

CREATE TABLE gantry.resumptions (
  run_id   text PRIMARY KEY REFERENCES gantry.runs (run_id),
  count    integer NOT NULL,
  progress integer NOT NULL
);

-- The processes that write (gantry serve peers, and commands such as gantry run while they run).
-- last_batch/last_outcome: the last commit of the peer, so that a commit sent again after a lost
-- connection is not written twice.
CREATE TABLE gantry.peers (
  id           text PRIMARY KEY,
  kind         text NOT NULL,
  host         text NOT NULL,
  pid          integer NOT NULL,
  version      text NOT NULL,
  address      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now(),
  last_batch   bigint NOT NULL DEFAULT 0,
  last_outcome text
);

${COMMIT_FUNCTION()}
`;

/**
 * One commit of the engine's journal writer, in one statement (one round trip, one transaction):
 * - a commit already made (the same peer and batch number, sent again after a lost connection)
 *   answers what it answered then and writes nothing;
 * - new runs are inserted (a top-level one owned by this peer at epoch 1); an id that exists is a
 *   conflict, and nothing of that run is written;
 * - the top-level runs the batch writes to are locked and fenced: one this peer does not hold at
 *   the epoch it claimed is refused, with every run of its tree, and the rest is written;
 * - events get their seq, completions their row (a second completion of a node fails the whole
 *   commit, unique_violation on completions_pkey), statuses their last value, and a waiting
 *   top-level run handed back (`park`) loses its owner until its timer is due or it is decided.
 * Answers {"conflicts": [run ids], "fenced": [top-level run ids]}, or NULL when neither.
 */
function COMMIT_FUNCTION(): string {
  return `
CREATE FUNCTION gantry.commit_v1(
  p_peer text, p_batch bigint, p_lease_ms double precision,
  p_roots text[], p_epochs bigint[],
  c_run text[], c_root text[], c_name text[], c_hash text[], c_text text[], c_source text[], c_parent text[], c_started double precision[], c_status text[], c_format integer[],
  e_run text[], e_root text[], e_type text[], e_node text[], e_json text[], e_path text[], e_outcome text[],
  r_run text[], r_path text[],
  s_run text[], s_root text[], s_status text[], s_finished double precision[], s_clear boolean[], s_park double precision[]
) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE
  v_last bigint;
  v_outcome text;
  v_created text[];
  v_conflicts text[];
  v_fenced text[];
BEGIN
  SELECT last_batch, last_outcome INTO v_last, v_outcome FROM gantry.peers WHERE id = p_peer FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO gantry.peers (id, kind, host, pid, version) VALUES (p_peer, 'unknown', '', 0, '');
  ELSIF v_last >= p_batch THEN
    RETURN v_outcome;
  END IF;

  -- New top-level runs, then the fence on the trees written to, then new sub-flow runs.
  WITH ins AS (
    INSERT INTO gantry.runs (run_id, root_id, flow_name, flow_hash, flow_text, flow_source, parent_run_id, started_at, status, format, owner, epoch, lease_until)
    SELECT c.run, c.root, c.name, c.hash, c.text, c.source, c.parent, c.started, c.status, c.format, p_peer, 1, now() + p_lease_ms * interval '1 millisecond'
    FROM unnest(c_run, c_root, c_name, c_hash, c_text, c_source, c_parent, c_started, c_status, c_format) AS c(run, root, name, hash, text, source, parent, started, status, format)
    WHERE c.run = c.root
    ON CONFLICT (run_id) DO NOTHING
    RETURNING run_id
  ) SELECT coalesce(array_agg(run_id), '{}') INTO v_created FROM ins;

  PERFORM 1 FROM gantry.runs WHERE run_id = ANY (p_roots) ORDER BY run_id FOR UPDATE;
  SELECT coalesce(array_agg(t.root), '{}') INTO v_fenced
  FROM unnest(p_roots, p_epochs) AS t(root, epoch)
  LEFT JOIN gantry.runs r ON r.run_id = t.root
  WHERE r.run_id IS NULL OR r.owner IS DISTINCT FROM p_peer OR r.epoch <> t.epoch;

  WITH ins AS (
    INSERT INTO gantry.runs (run_id, root_id, flow_name, flow_hash, flow_text, flow_source, parent_run_id, started_at, status, format)
    SELECT c.run, c.root, c.name, c.hash, c.text, c.source, c.parent, c.started, c.status, c.format
    FROM unnest(c_run, c_root, c_name, c_hash, c_text, c_source, c_parent, c_started, c_status, c_format) AS c(run, root, name, hash, text, source, parent, started, status, format)
    WHERE c.run <> c.root AND NOT (c.root = ANY (v_fenced))
    ON CONFLICT (run_id) DO NOTHING
    RETURNING run_id
  ) SELECT v_created || coalesce(array_agg(run_id), '{}') INTO v_created FROM ins;
  SELECT coalesce(array_agg(c.run), '{}') INTO v_conflicts
  FROM unnest(c_run, c_root) AS c(run, root)
  WHERE NOT (c.run = ANY (v_created)) AND NOT (c.root = ANY (v_fenced));

  -- A retried run's nodes that run again complete again (before this batch's completions).
  DELETE FROM gantry.completions d USING unnest(r_run, r_path) AS r(run, path)
  WHERE d.run_id = r.run AND d.node_path = r.path AND NOT (r.run = ANY (v_conflicts));

  WITH e AS (
    SELECT * FROM unnest(e_run, e_root, e_type, e_node, e_json, e_path, e_outcome) WITH ORDINALITY AS e(run, root, type, node, json, path, outcome, ord)
    WHERE NOT (e.root = ANY (v_fenced)) AND NOT (e.run = ANY (v_conflicts))
  ), m AS (
    SELECT r.run, (SELECT max(x.seq) FROM gantry.events x WHERE x.run_id = r.run) AS last FROM (SELECT DISTINCT run FROM e) r
  ), n AS (
    SELECT e.*, coalesce(m.last, 0) + row_number() OVER (PARTITION BY e.run ORDER BY e.ord) AS seq FROM e JOIN m USING (run)
  ), ev AS (
    INSERT INTO gantry.events (run_id, seq, type, node_id, json) SELECT run, seq, type, node, json FROM n
  )
  INSERT INTO gantry.completions (run_id, node_path, outcome, seq) SELECT run, path, outcome, seq FROM n WHERE path IS NOT NULL;

  UPDATE gantry.runs r SET
    status = s.status,
    finished_at = CASE WHEN s.clear THEN NULL ELSE coalesce(s.finished, r.finished_at) END,
    owner = CASE WHEN s.park IS NOT NULL AND r.parent_run_id IS NULL THEN NULL ELSE r.owner END,
    lease_until = CASE
      WHEN r.parent_run_id IS NOT NULL THEN NULL
      WHEN s.status NOT IN ('running', 'waiting') THEN NULL
      WHEN s.park IS NOT NULL THEN to_timestamp(s.park / 1000.0)
      -- A finished run claimed again (retried) is held from now on.
      WHEN r.lease_until IS NULL THEN now() + p_lease_ms * interval '1 millisecond'
      ELSE r.lease_until END
  FROM unnest(s_run, s_root, s_status, s_finished, s_clear, s_park) AS s(run, root, status, finished, clear, park)
  WHERE r.run_id = s.run AND NOT (s.root = ANY (v_fenced)) AND NOT (s.run = ANY (v_conflicts));

  v_outcome := CASE WHEN cardinality(v_conflicts) = 0 AND cardinality(v_fenced) = 0 THEN NULL
    ELSE json_build_object('conflicts', v_conflicts, 'fenced', v_fenced)::text END;
  UPDATE gantry.peers SET last_batch = p_batch, last_outcome = v_outcome WHERE id = p_peer;
  RETURN v_outcome;
END
$fn$;`;
}

/** Every migration, in order: the version the database has after each. */
export const MIGRATIONS: readonly Migration[] = [{ version: 1, compatibleFrom: 1, sql: V1 }];

/** The tables of a sound Gantry database. */
export const TABLES = ['meta', 'runs', 'events', 'completions', 'resumptions', 'peers'] as const;
