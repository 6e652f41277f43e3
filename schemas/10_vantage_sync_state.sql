-- ETL-001: vantage_sync_state — one row per Vantage API resource that the ETL syncs.
--
-- Why this table exists: ETL jobs need a watermark for incremental syncs (last_sync_time) and
-- the team needs one place that says whether each resource's sync is healthy. The table is
-- deliberately free of foreign keys to the domain tables, so sync infrastructure can evolve
-- on its own. Specification: shared/seed/vantage_sync_state.md.
--
-- Why the privileges look the way they do: on Supabase, `anon` and `authenticated` receive ALL
-- on new tables and EXECUTE on new functions through default privileges. Every grant below is
-- therefore revoked first and given back explicitly: the browser (authenticated) may read, only
-- the service role (behind the edge function) may write, and anon sees nothing.
--
-- Applied in one transaction by the tooling (psql --single-transaction, Supabase CLI).

CREATE TABLE public.vantage_sync_state (
  resource         text        NOT NULL,
  last_sync_time   timestamptz NULL,
  last_sync_status text        NOT NULL DEFAULT 'never_run',
  records_synced   integer     NOT NULL DEFAULT 0,
  records_created  integer     NOT NULL DEFAULT 0,
  records_updated  integer     NOT NULL DEFAULT 0,
  errors           jsonb       NOT NULL DEFAULT '[]'::jsonb,
  started_at       timestamptz NULL,
  completed_at     timestamptz NULL,
  duration_ms      integer     NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  consecutive_failures integer   NOT NULL DEFAULT 0,
  current_run_id   uuid        NULL,
  next_attempt_at  timestamptz NULL,
  sync_watermark   timestamptz NULL,
  last_heartbeat_at timestamptz NULL,
  records_so_far   bigint      NULL,
  counts_reported  boolean     NOT NULL DEFAULT true,

  -- Constraint names are part of the contract: callers and tests match on them.
  CONSTRAINT vantage_sync_state_pkey PRIMARY KEY (resource),
  CONSTRAINT vantage_sync_state_last_sync_status_check
    CHECK (last_sync_status IN ('success', 'failed', 'running', 'never_run')),
  CONSTRAINT vantage_sync_state_records_synced_check CHECK (records_synced >= 0),
  CONSTRAINT vantage_sync_state_records_created_check CHECK (records_created >= 0),
  CONSTRAINT vantage_sync_state_records_updated_check CHECK (records_updated >= 0),
  CONSTRAINT vantage_sync_state_duration_ms_check CHECK (duration_ms >= 0),
  CONSTRAINT valid_sync_timerange
    CHECK (completed_at IS NULL OR started_at IS NULL OR completed_at >= started_at),
  -- A running sync has not completed: a row cannot claim both.
  CONSTRAINT running_incomplete CHECK (last_sync_status <> 'running' OR completed_at IS NULL),
  CONSTRAINT errors_is_array CHECK (jsonb_typeof(errors) = 'array'),
  CONSTRAINT vantage_sync_state_consecutive_failures_check CHECK (consecutive_failures >= 0),
  CONSTRAINT vantage_sync_state_running_run_check
    CHECK (last_sync_status <> 'running' OR (current_run_id IS NOT NULL AND started_at IS NOT NULL)),
  -- Named to sort after the spec's constraints (Postgres checks them in name order).
  CONSTRAINT vantage_sync_state_records_so_far_check CHECK (records_so_far >= 0)
);

-- RLS right after CREATE TABLE, so there is no moment when the table is exposed without it.
ALTER TABLE public.vantage_sync_state ENABLE ROW LEVEL SECURITY;

COMMENT ON COLUMN public.vantage_sync_state.last_sync_time IS
  'Watermark for incremental syncs: advanced only by a successful sync.';

COMMENT ON COLUMN public.vantage_sync_state.duration_ms IS
  'completed_at - started_at in milliseconds, computed by trigger.';

-- Failures and running syncs are the rows dashboards and alerts look for; successes are the
-- bulk and are left out of the index.
CREATE INDEX idx_vantage_sync_status
  ON public.vantage_sync_state (last_sync_status)
  WHERE last_sync_status <> 'success';

-- Staleness checks and "last synced" listings read newest first; never-synced rows go last.
CREATE INDEX idx_vantage_sync_last_time
  ON public.vantage_sync_state (last_sync_time DESC NULLS LAST);

-- Slowest-sync reports; running rows (no duration yet) are left out.
CREATE INDEX idx_vantage_sync_duration
  ON public.vantage_sync_state (duration_ms DESC)
  WHERE duration_ms IS NOT NULL;

-- Privileges -----------------------------------------------------------------------------------

REVOKE ALL ON TABLE public.vantage_sync_state FROM PUBLIC, anon, authenticated, service_role;

GRANT SELECT ON TABLE public.vantage_sync_state TO authenticated;

GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_state TO service_role;

-- Row level security ---------------------------------------------------------------------------
-- Policy names are the spec's. service_role bypasses RLS on Supabase; its policies state the
-- intent and keep writes working on a stack where it does not.

-- service_role is named too: UPDATE ... WHERE and INSERT ... ON CONFLICT read rows, which needs a
-- SELECT policy wherever RLS is not bypassed.
CREATE POLICY vantage_sync_state_select_all ON public.vantage_sync_state
  FOR SELECT TO authenticated, service_role
  USING (true);

CREATE POLICY vantage_sync_state_insert_service ON public.vantage_sync_state
  FOR INSERT TO service_role
  WITH CHECK (true);

CREATE POLICY vantage_sync_state_update_service ON public.vantage_sync_state
  FOR UPDATE TO service_role
  USING (true)
  WITH CHECK (true);

CREATE POLICY vantage_sync_state_delete_service ON public.vantage_sync_state
  FOR DELETE TO service_role
  USING (true);

-- A sync state machine that cannot lie.
--
-- Why: the ETL-001 functions trust their caller, but real ETL jobs retry, crash, run twice and
-- race. From here on the database only accepts legal transitions:
--
--   never_run | success | failed ──start──▶ running ──complete──▶ success
--                                           running ──fail / abort / sweep / superseded──▶ failed
--
-- * start returns a run id; complete and fail may name it (p_run_id) and are refused when it is
--   not the current run, so a late or duplicated call cannot finish somebody else's run.
-- * complete/fail of a resource that is not running, and a start while a run is in progress,
--   raise SQLSTATE PT409 (PostgREST answers HTTP 409); a start over a *stuck* run fails that run
--   (STUCK_SUPERSEDED) and goes ahead. Unknown resources raise PT404.
-- * Each run is written to vantage_sync_runs in the same transaction as the state row: the
--   history row of the current run always has the state row's status and times.
-- * The row lock on the state row serialises every transition of one resource, so 50 racing
--   starts yield exactly one run.
--
-- The spec's calls keep working exactly as written: SELECT start_vantage_sync('accounts');
-- SELECT complete_vantage_sync('accounts', 100, 10, 90); SELECT fail_vantage_sync('funds', ...).
--
-- The state functions become SECURITY DEFINER (with search_path = ''): they alone write the run
-- history, which no API role may write directly. EXECUTE stays with service_role only.

COMMENT ON COLUMN public.vantage_sync_state.consecutive_failures IS
  'Failed runs since the last success (0 after a success).';

COMMENT ON COLUMN public.vantage_sync_state.current_run_id IS
  'The run this row describes: the one in progress, or else the last one that ran.';

-- Named to sort after running_incomplete: Postgres checks constraints in name order, and the
-- spec's own violation examples must keep reporting the spec's constraint.

COMMENT ON COLUMN public.vantage_sync_state.next_attempt_at IS
  'With a retry policy: when the next attempt may start after a failure (NULL: now, or the policy gave up).';

-- sync_watermark: the point an incremental ETL job syncs from, so that it loses nothing.
--
-- Why: last_sync_time is the time the last successful run *completed*. A job that asks Vantage
-- for "changed since last_sync_time" misses every record changed while that run was in progress
-- (after the run had read past it, before the run completed). sync_watermark is the *started_at*
-- of the last successful run: a record changed at any moment after that start is changed
-- "since sync_watermark", so the next run reads it (a record changed while a run was reading may
-- be read by both runs; ETL upserts make that harmless).
--
-- Like last_sync_time it moves only when a run succeeds: a failed, aborted, swept or
-- superseded run keeps it, and so does a start. last_sync_time keeps the spec's meaning (the
-- last success's completion time) and every use the spec and the health rules make of it.
--
-- A trigger keeps it, not complete_vantage_sync alone, so every writer path holds it: the edge,
-- the spec's direct SQL, a row service_role inserts as already successful.
--
-- start_vantage_sync_run, the edge's one-call start, now also returns it: the job is told the
-- point to sync from in the answer that starts its run.

COMMENT ON COLUMN public.vantage_sync_state.sync_watermark IS
  'started_at of the last successful run: sync records changed since this (NULL: never succeeded, sync everything). Kept when a run fails.';

COMMENT ON TABLE public.vantage_sync_state IS
  'ETL-001: sync state per Vantage resource, one row each. Written by the state functions (start_vantage_sync_run, complete_vantage_sync, fail_vantage_sync_run, abort_vantage_sync, the sweeps and the spec''s start/complete/fail_vantage_sync), which the edge function calls for ETL jobs; service_role may also write it directly. Signed-in users read it (RLS).';

-- Progress you can watch: heartbeats with the records so far, stuck judged by them, and a
-- completion that may report no counts (issue 25).
--
-- Why: a run that goes on for two hours looked stuck after 30 minutes however busy it was, and
-- the sweep failed it; a job that hung was only caught stuck_after from its start. A job (the
-- `vantage-sync` wrapper, through the edge's POST progress) now calls
-- progress_vantage_sync_run(resource, run_id, records_synced) every minute or so; the state row
-- and the run's history row keep the time of the last heartbeat and the records so far.
--
-- The stuck rule (everywhere stuck is decided: the rule functions behind the health view and its
-- alerts, sweep_stuck_vantage_syncs, the stuck take-over in start_vantage_sync):
--
--   running AND coalesce(last_heartbeat_at, started_at) < now - stuck_after   (strict)
--
-- A run that sends heartbeats is stuck only when its last one is older than stuck_after; a run
-- that never sends one keeps the spec's rule (started_at < now - stuck_after). The spec's own
-- stuck query stays as the spec writes it; docs/database.md says where the product departs.
-- A heartbeat of a run that is stuck but not yet swept makes it live again: it was a sign of life.
--
-- No counts: complete_vantage_sync keeps its signature; NULL for all three counts now means "not
-- reported" (before: refused with 22023). One or two of three stay refused (22023): a partial
-- report is a caller's mistake, not something to guess around. What is stored then:
--   vantage_sync_state  records_synced/created/updated = 0 (the spec's columns are NOT NULL) and
--                       counts_reported = false; every other completion sets it to true.
--   vantage_sync_runs   records_synced/created/updated = NULL (the history's columns become
--                       nullable; a reported count is never NULL).
-- The health view, the widget's changes and the webhook payload carry counts_reported, and the
-- payload's records_synced is null when none were reported: no zeros that look like a real sync.
--
-- The rule functions gain p_last_heartbeat_at as a last, defaulted parameter (a call without it
-- judges by started_at, as before); the earlier signatures are dropped so no call is ambiguous,
-- and the grants of 20261202100100 are given again. The view is restated with three columns
-- appended (last_heartbeat_at, records_so_far, counts_reported); its columns before them are as
-- 20261202100100 left them.

COMMENT ON COLUMN public.vantage_sync_state.last_heartbeat_at IS
  'When the current (or last) run last reported progress; NULL when it never did (cleared by start). A running run is stuck when coalesce(last_heartbeat_at, started_at) is older than stuck_after.';

COMMENT ON COLUMN public.vantage_sync_state.records_so_far IS
  'Records the current (or last) run said it had synced in its last heartbeat; NULL when none said (cleared by start).';

COMMENT ON COLUMN public.vantage_sync_state.counts_reported IS
  'false when the last successful run completed without record counts: records_synced, records_created and records_updated then hold 0 and mean nothing.';
