-- Run history: one row per sync run, not just the last one (spec, future work 1).
--
-- Why: the state row answers "how is it now"; on-call engineers also ask "since when", "how
-- often" and "is it getting slower". The state functions write a run's row in the same
-- transaction as the state row, so the current run's row always agrees with the state row
-- (status, times, errors). Nobody else writes it.
--
-- Why partitioned by month on started_at: history grows without bound while the questions asked
-- of it are about recent runs; old months can be detached and archived in one statement. Rows
-- outside the prepared months land in a default partition, so an insert never fails for lack
-- of one; create_vantage_sync_run_partitions() prepares the coming months (schedule it monthly
-- with pg_cron, see README).
--
-- Partitions live in the private schema vantage_sync_private, which PostgREST does not expose:
-- the API reads history through the parent table and its RLS only.

CREATE SCHEMA vantage_sync_private;
REVOKE ALL ON SCHEMA vantage_sync_private FROM PUBLIC;
COMMENT ON SCHEMA vantage_sync_private IS
  'Internals of vantage sync status: run partitions and helpers. Not exposed through the API.';

CREATE TABLE public.vantage_sync_runs (
  run_id          uuid        NOT NULL,
  resource        text        NOT NULL,
  status          text        NOT NULL,
  started_at      timestamptz NOT NULL,
  completed_at    timestamptz NULL,
  duration_ms     integer     NULL,
  records_synced  integer     NOT NULL DEFAULT 0,
  records_created integer     NOT NULL DEFAULT 0,
  records_updated integer     NOT NULL DEFAULT 0,
  errors          jsonb       NOT NULL DEFAULT '[]'::jsonb,

  -- The partition key must be part of the primary key; run ids are random UUIDs.
  CONSTRAINT vantage_sync_runs_pkey PRIMARY KEY (run_id, started_at),
  CONSTRAINT vantage_sync_runs_status_check CHECK (status IN ('running', 'success', 'failed')),
  CONSTRAINT vantage_sync_runs_completed_iff_finished
    CHECK ((status = 'running') = (completed_at IS NULL)),
  CONSTRAINT vantage_sync_runs_timerange CHECK (completed_at IS NULL OR completed_at >= started_at),
  CONSTRAINT vantage_sync_runs_records_check
    CHECK (records_synced >= 0 AND records_created >= 0 AND records_updated >= 0),
  CONSTRAINT vantage_sync_runs_duration_ms_check CHECK (duration_ms >= 0),
  CONSTRAINT vantage_sync_runs_errors_is_array CHECK (jsonb_typeof(errors) = 'array')
) PARTITION BY RANGE (started_at);

ALTER TABLE public.vantage_sync_runs ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE public.vantage_sync_runs IS
  'One row per sync run, written only by the state functions in the same transaction as the state row.';

-- "The last 20 runs of this resource", the widget's history bar and every trend query.
CREATE INDEX vantage_sync_runs_resource_started ON public.vantage_sync_runs (resource, started_at DESC);

CREATE TABLE vantage_sync_private.vantage_sync_runs_default
  PARTITION OF public.vantage_sync_runs DEFAULT;
ALTER TABLE vantage_sync_private.vantage_sync_runs_default ENABLE ROW LEVEL SECURITY;

-- The same trigger as the state table: durations are derived from timestamps, never reported.
CREATE TRIGGER vantage_sync_runs_duration
  BEFORE INSERT OR UPDATE OF started_at, completed_at ON public.vantage_sync_runs
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_compute_duration();

-- Creates the monthly partitions from the current month (UTC) through p_months_ahead months
-- ahead; returns how many it created. Rows that already landed in the default partition for a
-- new month are moved into it. SECURITY DEFINER because attaching a partition needs the table
-- owner's rights, which the service role (or pg_cron's job) does not have; an advisory lock
-- makes concurrent calls take turns.
CREATE FUNCTION public.create_vantage_sync_run_partitions(p_months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_first timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
  v_from  timestamptz;
  v_to    timestamptz;
  v_name  text;
  v_made  integer := 0;
BEGIN
  IF p_months_ahead IS NULL OR p_months_ahead < 0 OR p_months_ahead > 120 THEN
    RAISE EXCEPTION 'p_months_ahead must be between 0 and 120 (got %)', p_months_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('public.vantage_sync_runs partitions'));

  FOR i IN 0 .. p_months_ahead LOOP
    v_from := (v_first + make_interval(months => i)) AT TIME ZONE 'UTC';
    v_to   := (v_first + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    v_name := 'vantage_sync_runs_' || to_char(v_first + make_interval(months => i), 'YYYY_MM');
    CONTINUE WHEN to_regclass('vantage_sync_private.' || v_name) IS NOT NULL;

    EXECUTE format(
      'CREATE TABLE vantage_sync_private.%I (LIKE public.vantage_sync_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
      v_name);
    EXECUTE format(
      'WITH moved AS (DELETE FROM vantage_sync_private.vantage_sync_runs_default
                       WHERE started_at >= %L AND started_at < %L RETURNING *)
       INSERT INTO vantage_sync_private.%I SELECT * FROM moved',
      v_from, v_to, v_name);
    EXECUTE format(
      'ALTER TABLE public.vantage_sync_runs ATTACH PARTITION vantage_sync_private.%I FOR VALUES FROM (%L) TO (%L)',
      v_name, v_from, v_to);
    EXECUTE format('ALTER TABLE vantage_sync_private.%I ENABLE ROW LEVEL SECURITY', v_name);
    v_made := v_made + 1;
  END LOOP;
  RETURN v_made;
END;
$$;

SELECT public.create_vantage_sync_run_partitions(3);

-- Privileges: everyone signed in may read history; nobody but the state functions writes it
-- (they are SECURITY DEFINER, owned by the migration's role).
REVOKE ALL ON TABLE public.vantage_sync_runs FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vantage_sync_runs TO authenticated, service_role;

REVOKE ALL ON FUNCTION public.create_vantage_sync_run_partitions(integer)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.create_vantage_sync_run_partitions(integer) TO service_role;

CREATE POLICY vantage_sync_runs_select_all ON public.vantage_sync_runs
  FOR SELECT TO authenticated, service_role
  USING (true);
