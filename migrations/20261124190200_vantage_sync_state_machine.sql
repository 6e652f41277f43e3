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

ALTER TABLE public.vantage_sync_state
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN current_run_id uuid NULL,
  ADD CONSTRAINT vantage_sync_state_consecutive_failures_check CHECK (consecutive_failures >= 0);

COMMENT ON COLUMN public.vantage_sync_state.consecutive_failures IS
  'Failed runs since the last success (0 after a success).';
COMMENT ON COLUMN public.vantage_sync_state.current_run_id IS
  'The run this row describes: the one in progress, or else the last one that ran.';

-- A sync that is running while this migration lands gets a run id and a history row, so the
-- invariant below holds from the first moment.
UPDATE public.vantage_sync_state
   SET current_run_id = gen_random_uuid(),
       started_at = coalesce(started_at, now())
 WHERE last_sync_status = 'running';
INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at)
SELECT current_run_id, resource, 'running', started_at
  FROM public.vantage_sync_state
 WHERE last_sync_status = 'running';

-- Named to sort after running_incomplete: Postgres checks constraints in name order, and the
-- spec's own violation examples must keep reporting the spec's constraint.
ALTER TABLE public.vantage_sync_state
  ADD CONSTRAINT vantage_sync_state_running_run_check
  CHECK (last_sync_status <> 'running' OR (current_run_id IS NOT NULL AND started_at IS NOT NULL));

-- Internals ------------------------------------------------------------------------------------

-- Ends the current run of a locked, running state row as failed: state row and history row in
-- one go. Every way a run can fail (fail, abort, sweep, superseded) goes through here.
CREATE FUNCTION vantage_sync_private.fail_current_run(
  p_resource text,
  p_errors   jsonb,
  p_now      timestamptz
)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_run_id uuid;
  v_started timestamptz;
BEGIN
  UPDATE public.vantage_sync_state
     SET last_sync_status     = 'failed',
         errors               = p_errors,
         completed_at         = p_now,
         consecutive_failures = consecutive_failures + 1
   WHERE resource = p_resource
  RETURNING current_run_id, started_at INTO v_run_id, v_started;

  UPDATE public.vantage_sync_runs
     SET status = 'failed', errors = p_errors, completed_at = p_now
   WHERE run_id = v_run_id AND started_at = v_started;
END;
$$;

-- 400-class errors for bad input: a caller gets a plain sentence, not a constraint dump.
CREATE FUNCTION vantage_sync_private.require_valid_errors(p_errors jsonb)
RETURNS jsonb
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF p_errors IS NULL THEN
    RETURN '[]'::jsonb;
  END IF;
  IF jsonb_typeof(p_errors) <> 'array' THEN
    RAISE EXCEPTION 'errors must be a JSON array of objects, got a JSON %', jsonb_typeof(p_errors)
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_errors) AS e WHERE jsonb_typeof(e) <> 'object') THEN
    RAISE EXCEPTION 'errors must be a JSON array of objects, like [{"code": "API_TIMEOUT", "message": "..."}]'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN p_errors;
END;
$$;

-- The current run of a state row as JSON text, for the DETAIL of a 409.
CREATE FUNCTION vantage_sync_private.run_detail(p_state public.vantage_sync_state)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT json_build_object('resource', p_state.resource, 'status', p_state.last_sync_status,
                           'current_run_id', p_state.current_run_id, 'started_at', p_state.started_at,
                           'completed_at', p_state.completed_at)::text
$$;

-- Locks and returns the state row of a resource that must be running, or raises the error a
-- caller of complete/fail/abort should see.
CREATE FUNCTION vantage_sync_private.lock_running(p_resource text, p_run_id uuid, p_action text)
RETURNS public.vantage_sync_state
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_state public.vantage_sync_state;
BEGIN
  SELECT * INTO v_state FROM public.vantage_sync_state WHERE resource = p_resource FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'unknown resource "%": call start_vantage_sync first', p_resource
      USING ERRCODE = 'PT404';
  END IF;
  -- DETAIL carries the current run as JSON, so the edge function can answer with it.
  IF p_run_id IS NOT NULL AND p_run_id IS DISTINCT FROM v_state.current_run_id THEN
    RAISE EXCEPTION 'cannot % run % of "%": it is not the current run (that is % with status %)',
        p_action, p_run_id, p_resource, coalesce(v_state.current_run_id::text, 'none'), v_state.last_sync_status
      USING ERRCODE = 'PT409', DETAIL = vantage_sync_private.run_detail(v_state);
  END IF;
  IF v_state.last_sync_status <> 'running' AND p_run_id IS NOT NULL THEN
    -- The usual cause: a retry after a lost response. Say which run finished, and how.
    RAISE EXCEPTION 'cannot % run % of "%": it already finished with status % at %',
        p_action, p_run_id, p_resource, v_state.last_sync_status, v_state.completed_at
      USING ERRCODE = 'PT409', DETAIL = vantage_sync_private.run_detail(v_state);
  END IF;
  IF v_state.last_sync_status <> 'running' THEN
    RAISE EXCEPTION 'cannot % "%": it is not running (status %)', p_action, p_resource, v_state.last_sync_status
      USING ERRCODE = 'PT409', DETAIL = vantage_sync_private.run_detail(v_state);
  END IF;
  RETURN v_state;
END;
$$;

-- Transitions -----------------------------------------------------------------------------------

DROP FUNCTION public.start_vantage_sync(text);
DROP FUNCTION public.complete_vantage_sync(text, integer, integer, integer);
DROP FUNCTION public.fail_vantage_sync(text, jsonb);

CREATE FUNCTION public.start_vantage_sync(p_resource text)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_now      timestamptz;
  v_state    public.vantage_sync_state;
  v_schedule record;
  v_dep      text;
  v_dep_time timestamptz;
  v_run_id   uuid := gen_random_uuid();
BEGIN
  IF p_resource IS NULL OR btrim(p_resource) = '' THEN
    RAISE EXCEPTION 'resource must be a non-empty name' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Lock the row: every start of one resource waits here for the previous transition to commit.
  -- A new resource starts tracking on its first sync (the insert is only tried when the row is
  -- missing: a speculative insert on every start would cost a fifth of the throughput).
  SELECT * INTO v_state FROM public.vantage_sync_state WHERE resource = p_resource FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO public.vantage_sync_state (resource) VALUES (p_resource) ON CONFLICT (resource) DO NOTHING;
    SELECT * INTO v_state FROM public.vantage_sync_state WHERE resource = p_resource FOR UPDATE;
  END IF;
  SELECT * INTO v_schedule FROM public.vantage_sync_effective_schedule(p_resource);
  -- Read the clock after the lock: time spent waiting for another start is not this run's.
  v_now := clock_timestamp();

  -- Strict comparison, as in the health rules: exactly at the threshold is not yet stuck.
  IF v_state.last_sync_status = 'running' AND v_state.started_at >= v_now - v_schedule.stuck_after THEN
    RAISE EXCEPTION 'resource "%" already has a run in progress: run % started at %',
        p_resource, v_state.current_run_id, v_state.started_at
      USING ERRCODE = 'PT409',
            DETAIL = vantage_sync_private.run_detail(v_state),
            HINT = 'Wait for it to finish, or abort it if it is stuck.';
  END IF;

  -- Before superseding anything: a start that may not happen must change nothing.
  FOREACH v_dep IN ARRAY v_schedule.depends_on LOOP
    SELECT last_sync_time INTO v_dep_time FROM public.vantage_sync_state WHERE resource = v_dep;
    IF v_dep_time IS NULL OR v_dep_time <= coalesce(v_state.last_sync_time, '-infinity') THEN
      RAISE EXCEPTION 'resource "%" depends on "%", which has not synced successfully since "%" last did',
          p_resource, v_dep, p_resource
        USING ERRCODE = 'PT409',
              DETAIL = json_build_object('resource', p_resource, 'dependency', v_dep,
                                         'dependency_last_sync_time', v_dep_time,
                                         'last_sync_time', v_state.last_sync_time)::text,
              HINT = format('Sync "%s" first.', v_dep);
    END IF;
  END LOOP;

  IF v_state.last_sync_status = 'running' THEN
    PERFORM vantage_sync_private.fail_current_run(p_resource, jsonb_build_array(jsonb_build_object(
      'code', 'STUCK_SUPERSEDED',
      'message', format('run was still running after %s (stuck after %s) and was replaced by run %s',
                        date_trunc('second', v_now - v_state.started_at), v_schedule.stuck_after, v_run_id),
      'superseded_by', v_run_id,
      'timestamp', v_now)), v_now);
  END IF;

  UPDATE public.vantage_sync_state
     SET last_sync_status = 'running',
         started_at       = v_now,
         completed_at     = NULL,
         duration_ms      = NULL,
         current_run_id   = v_run_id
   WHERE resource = p_resource;
  INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at)
  VALUES (v_run_id, p_resource, 'running', v_now);
  RETURN v_run_id;
END;
$$;

CREATE FUNCTION public.complete_vantage_sync(
  p_resource        text,
  p_records_synced  integer,
  p_records_created integer,
  p_records_updated integer,
  p_run_id          uuid DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state public.vantage_sync_state;
  v_now   timestamptz;
BEGIN
  IF p_records_synced IS NULL OR p_records_synced < 0
     OR p_records_created IS NULL OR p_records_created < 0
     OR p_records_updated IS NULL OR p_records_updated < 0 THEN
    RAISE EXCEPTION 'record counts must be whole numbers >= 0 (got synced %, created %, updated %)',
        coalesce(p_records_synced::text, 'null'), coalesce(p_records_created::text, 'null'),
        coalesce(p_records_updated::text, 'null')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'complete');
  v_now := clock_timestamp();

  UPDATE public.vantage_sync_state
     SET last_sync_status     = 'success',
         last_sync_time       = v_now,
         records_synced       = p_records_synced,
         records_created      = p_records_created,
         records_updated      = p_records_updated,
         errors               = '[]'::jsonb,
         completed_at         = v_now,
         consecutive_failures = 0
   WHERE resource = p_resource;
  UPDATE public.vantage_sync_runs
     SET status = 'success', completed_at = v_now, records_synced = p_records_synced,
         records_created = p_records_created, records_updated = p_records_updated
   WHERE run_id = v_state.current_run_id AND started_at = v_state.started_at;
END;
$$;

CREATE FUNCTION public.fail_vantage_sync(p_resource text, p_errors jsonb, p_run_id uuid DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_errors jsonb := vantage_sync_private.require_valid_errors(p_errors);
BEGIN
  -- last_sync_time is left alone on purpose: a failed sync must not advance the watermark.
  PERFORM vantage_sync_private.lock_running(p_resource, p_run_id, 'fail');
  PERFORM vantage_sync_private.fail_current_run(p_resource, v_errors, clock_timestamp());
END;
$$;

-- An admin ends a run by hand (the widget's "Abort run", through the edge function). With
-- p_run_id, a stale click cannot abort a newer run than the one the admin saw.
CREATE FUNCTION public.abort_vantage_sync(
  p_resource   text,
  p_reason     text,
  p_aborted_by text DEFAULT NULL,
  p_run_id     uuid DEFAULT NULL
)
RETURNS uuid
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state public.vantage_sync_state;
  v_now   timestamptz;
BEGIN
  IF p_reason IS NULL OR btrim(p_reason) = '' THEN
    RAISE EXCEPTION 'a reason is required to abort a run' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'abort');
  v_now := clock_timestamp();
  PERFORM vantage_sync_private.fail_current_run(p_resource, jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
    'code', 'ABORTED',
    'message', p_reason,
    'aborted_by', p_aborted_by,
    'timestamp', v_now))), v_now);
  RETURN v_state.current_run_id;
END;
$$;

-- Fails every run that has been running longer than its resource's stuck threshold and returns
-- what it swept. Safe to call concurrently: rows another transaction holds are skipped (they are
-- being changed right now, so they are not stuck), and each row is re-checked under its lock.
CREATE FUNCTION public.sweep_stuck_vantage_syncs()
RETURNS TABLE (resource text, run_id uuid, started_at timestamptz, stuck_for interval)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_row record;
  v_now timestamptz := clock_timestamp();
BEGIN
  FOR v_row IN
    SELECT s.resource, s.current_run_id, s.started_at, coalesce(sc.stuck_after, d.stuck_after) AS stuck_after
      FROM public.vantage_sync_state AS s
      LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = s.resource
     CROSS JOIN public.vantage_sync_default_schedule() AS d
     WHERE s.last_sync_status = 'running'
       AND s.started_at < v_now - coalesce(sc.stuck_after, d.stuck_after)
     ORDER BY s.resource
       FOR UPDATE OF s SKIP LOCKED
  LOOP
    PERFORM vantage_sync_private.fail_current_run(v_row.resource, jsonb_build_array(jsonb_build_object(
      'code', 'STUCK_TIMEOUT',
      'message', format('run %s was still running after %s (stuck after %s); the sweep marked it failed',
                        v_row.current_run_id, date_trunc('second', v_now - v_row.started_at), v_row.stuck_after),
      'timestamp', v_now)), v_now);
    resource := v_row.resource;
    run_id := v_row.current_run_id;
    started_at := v_row.started_at;
    stuck_for := v_now - v_row.started_at;
    RETURN NEXT;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync(text) IS
  'Starts a run of p_resource and returns its run id; 409 (PT409) while another run is in progress.';
COMMENT ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) IS
  'Completes the running sync of p_resource (and p_run_id, when given); advances the watermark.';
COMMENT ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) IS
  'Fails the running sync of p_resource (and p_run_id, when given) with error objects; keeps the watermark.';
COMMENT ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) IS
  'Marks the running sync of p_resource failed by hand (error code ABORTED); returns its run id.';
COMMENT ON FUNCTION public.sweep_stuck_vantage_syncs() IS
  'Fails every run stuck past its threshold (error code STUCK_TIMEOUT); returns what it swept.';

-- The spec lets service_role delete state rows directly. A row deleted while its run is running
-- would leave that run running in the history forever: record it as failed instead.
CREATE FUNCTION vantage_sync_private.fail_run_of_deleted_state()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  IF OLD.last_sync_status = 'running' THEN
    UPDATE public.vantage_sync_runs
       SET status = 'failed',
           completed_at = greatest(clock_timestamp(), started_at),
           errors = jsonb_build_array(jsonb_build_object(
             'code', 'RESOURCE_DELETED',
             'message', format('the state row of "%s" was deleted while this run was running', OLD.resource)))
     WHERE run_id = OLD.current_run_id AND started_at = OLD.started_at;
  END IF;
  RETURN OLD;
END;
$$;

CREATE TRIGGER vantage_sync_state_fail_run_on_delete
  BEFORE DELETE ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.fail_run_of_deleted_state();

-- Privileges: the service role (behind the edge function) alone may change state.
REVOKE ALL ON FUNCTION public.start_vantage_sync(text) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid)
  FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.sweep_stuck_vantage_syncs() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.start_vantage_sync(text) TO service_role;
GRANT EXECUTE ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) TO service_role;
GRANT EXECUTE ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) TO service_role;
GRANT EXECUTE ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) TO service_role;
GRANT EXECUTE ON FUNCTION public.sweep_stuck_vantage_syncs() TO service_role;

REVOKE ALL ON ALL FUNCTIONS IN SCHEMA vantage_sync_private FROM PUBLIC, anon, authenticated, service_role;
