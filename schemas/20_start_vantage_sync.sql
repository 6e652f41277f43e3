-- The state functions -------------------------------------------------------------------------

-- As 20261124190200 made it, but a running run is judged stuck by its last heartbeat when it
-- sent one, and a new run starts with no heartbeat and no records so far.
CREATE OR REPLACE FUNCTION public.start_vantage_sync(p_resource text)
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
  v_alive    timestamptz;
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
  -- The running run's last sign of life: its last heartbeat, or its start if it sent none.
  v_alive := coalesce(v_state.last_heartbeat_at, v_state.started_at);

  -- Strict comparison, as in the health rules: exactly at the threshold is not yet stuck.
  IF v_state.last_sync_status = 'running' AND v_alive >= v_now - v_schedule.stuck_after THEN
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
      'message', CASE WHEN v_state.last_heartbeat_at IS NULL
        THEN format('run was still running after %s (stuck after %s) and was replaced by run %s',
                    date_trunc('second', v_now - v_state.started_at), v_schedule.stuck_after, v_run_id)
        ELSE format('run was last heard from %s ago, after running for %s (stuck after %s), and was replaced by run %s',
                    date_trunc('second', v_now - v_state.last_heartbeat_at),
                    date_trunc('second', v_state.last_heartbeat_at - v_state.started_at),
                    v_schedule.stuck_after, v_run_id)
      END,
      'superseded_by', v_run_id,
      'timestamp', v_now)), v_now);
  END IF;

  UPDATE public.vantage_sync_state
     SET last_sync_status  = 'running',
         started_at        = v_now,
         completed_at      = NULL,
         duration_ms       = NULL,
         current_run_id    = v_run_id,
         last_heartbeat_at = NULL,
         records_so_far    = NULL
   WHERE resource = p_resource;
  INSERT INTO public.vantage_sync_runs (run_id, resource, status, started_at)
  VALUES (v_run_id, p_resource, 'running', v_now);
  RETURN v_run_id;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync(text) IS
  'Starts a run of p_resource and returns its run id; 409 (PT409) while another run is in progress.';

-- Privileges: the service role (behind the edge function) alone may change state.
REVOKE ALL ON FUNCTION public.start_vantage_sync(text) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.start_vantage_sync(text) TO service_role;

COMMENT ON FUNCTION public.start_vantage_sync(text) IS
  'Starts a run of p_resource and returns its run id; 409 (PT409) while another run is in progress and not stuck (by its last heartbeat, or its start without one).';

