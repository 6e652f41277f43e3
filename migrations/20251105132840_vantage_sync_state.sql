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
  CONSTRAINT errors_is_array CHECK (jsonb_typeof(errors) = 'array')
);

-- RLS right after CREATE TABLE, so there is no moment when the table is exposed without it.
ALTER TABLE public.vantage_sync_state ENABLE ROW LEVEL SECURITY;

COMMENT ON TABLE public.vantage_sync_state IS
  'ETL-001: sync state per Vantage resource. Written only through start/complete/fail_vantage_sync.';
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

-- Triggers -------------------------------------------------------------------------------------

-- clock_timestamp(), not now(): two writes inside one transaction must still be ordered in time.
CREATE FUNCTION public.vantage_sync_state_touch_updated_at()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END;
$$;

-- The duration is derived, never reported: a caller cannot send a duration that disagrees with
-- the timestamps. Rows without both timestamps keep what they were given, so the CHECK on
-- duration_ms still guards direct writes. Capped at the integer range: a run that was stuck for
-- weeks must still be able to finish.
CREATE FUNCTION public.vantage_sync_state_compute_duration()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF NEW.started_at IS NOT NULL AND NEW.completed_at IS NOT NULL
     AND NEW.completed_at >= NEW.started_at THEN
    NEW.duration_ms := least(
      round(extract(epoch FROM NEW.completed_at - NEW.started_at) * 1000),
      2147483647
    )::integer;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_state_updated_at
  BEFORE UPDATE ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_touch_updated_at();

CREATE TRIGGER vantage_sync_state_duration
  BEFORE INSERT OR UPDATE OF started_at, completed_at ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION public.vantage_sync_state_compute_duration();

-- State functions ------------------------------------------------------------------------------
-- SECURITY INVOKER: they run with the caller's rights, so only a role that may write the table
-- (service_role) can use them. search_path = '' and qualified names: a caller cannot shadow
-- a table or function by creating objects in a schema earlier on its path.

CREATE FUNCTION public.start_vantage_sync(p_resource text)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF p_resource IS NULL OR btrim(p_resource) = '' THEN
    RAISE EXCEPTION 'resource must be a non-empty name' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Upsert: a resource the migration did not seed starts tracking on its first sync.
  INSERT INTO public.vantage_sync_state AS s (resource, last_sync_status, started_at)
  VALUES (p_resource, 'running', clock_timestamp())
  ON CONFLICT (resource) DO UPDATE
    SET last_sync_status = 'running',
        started_at       = excluded.started_at,
        completed_at     = NULL,
        duration_ms      = NULL;
END;
$$;

CREATE FUNCTION public.complete_vantage_sync(
  p_resource        text,
  p_records_synced  integer,
  p_records_created integer,
  p_records_updated integer
)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
BEGIN
  UPDATE public.vantage_sync_state
     SET last_sync_status = 'success',
         last_sync_time   = v_now,
         records_synced   = p_records_synced,
         records_created  = p_records_created,
         records_updated  = p_records_updated,
         errors           = '[]'::jsonb,
         completed_at     = v_now
   WHERE resource = p_resource;

  IF NOT FOUND THEN
    -- PTxxx: PostgREST answers with HTTP status xxx, so API callers get a 404, not a 500.
    RAISE EXCEPTION 'unknown resource "%": call start_vantage_sync first', p_resource
      USING ERRCODE = 'PT404';
  END IF;
END;
$$;

CREATE FUNCTION public.fail_vantage_sync(p_resource text, p_errors jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  -- last_sync_time is left alone on purpose: a failed sync must not advance the watermark,
  -- or the next incremental sync would skip the records this one never loaded.
  UPDATE public.vantage_sync_state
     SET last_sync_status = 'failed',
         errors           = coalesce(p_errors, '[]'::jsonb),
         completed_at     = clock_timestamp()
   WHERE resource = p_resource;

  IF NOT FOUND THEN
    -- PTxxx: PostgREST answers with HTTP status xxx, so API callers get a 404, not a 500.
    RAISE EXCEPTION 'unknown resource "%": call start_vantage_sync first', p_resource
      USING ERRCODE = 'PT404';
  END IF;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync(text) IS
  'Marks a sync of p_resource as running (creates the row on first use).';
COMMENT ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer) IS
  'Marks the running sync of p_resource as successful and advances its watermark.';
COMMENT ON FUNCTION public.fail_vantage_sync(text, jsonb) IS
  'Marks the sync of p_resource as failed with an array of error objects; keeps the watermark.';

-- Seeds ----------------------------------------------------------------------------------------

INSERT INTO public.vantage_sync_state (resource) VALUES
  ('accounts'),
  ('funds'),
  ('cashflows'),
  ('commitments'),
  ('investors'),
  ('investments'),
  ('valuations');

-- Privileges -----------------------------------------------------------------------------------

REVOKE ALL ON TABLE public.vantage_sync_state FROM PUBLIC, anon, authenticated, service_role;
GRANT SELECT ON TABLE public.vantage_sync_state TO authenticated;
GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.vantage_sync_state TO service_role;

REVOKE ALL ON FUNCTION public.start_vantage_sync(text) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer)
  FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.fail_vantage_sync(text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.start_vantage_sync(text) TO service_role;
GRANT EXECUTE ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer)
  TO service_role;
GRANT EXECUTE ON FUNCTION public.fail_vantage_sync(text, jsonb) TO service_role;

-- Trigger functions are never called directly; nobody needs EXECUTE on them.
REVOKE ALL ON FUNCTION public.vantage_sync_state_touch_updated_at()
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.vantage_sync_state_compute_duration()
  FROM PUBLIC, anon, authenticated, service_role;

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
