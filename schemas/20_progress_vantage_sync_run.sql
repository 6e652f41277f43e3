-- A heartbeat of the resource's current running run: its time (the database's clock) and, when
-- given, the records synced so far, on the state row and the run's history row. Returns the
-- time stored. A run that is not the current running one gets the 409 (PT409, DETAIL the
-- current run as JSON) that complete and fail give; an unknown resource PT404.
CREATE FUNCTION public.progress_vantage_sync_run(
  p_resource       text,
  p_run_id         uuid,
  p_records_synced bigint DEFAULT NULL
)
RETURNS timestamptz
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state public.vantage_sync_state;
  v_now   timestamptz;
BEGIN
  IF p_run_id IS NULL THEN
    RAISE EXCEPTION 'run_id is required: progress is reported for the run that start returned'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_records_synced < 0 THEN
    RAISE EXCEPTION 'records synced so far must be a whole number >= 0 (got %)', p_records_synced
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'report progress of');
  v_now := clock_timestamp();

  UPDATE public.vantage_sync_state
     SET last_heartbeat_at = v_now,
         records_so_far    = coalesce(p_records_synced, records_so_far)
   WHERE resource = p_resource;
  UPDATE public.vantage_sync_runs
     SET last_heartbeat_at = v_now,
         records_so_far    = coalesce(p_records_synced, records_so_far)
   WHERE run_id = v_state.current_run_id AND started_at = v_state.started_at;
  RETURN v_now;
END;
$$;

COMMENT ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) IS
  'A heartbeat of the current running run p_run_id of p_resource: stores the time (returned) and, when given, the records synced so far; 409 (PT409) for a run that is not the current running one.';

-- Privileges: the service role (behind the edge function) alone may report progress. CREATE OR
-- REPLACE keeps the other functions' grants.
REVOKE ALL ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.progress_vantage_sync_run(text, uuid, bigint) TO service_role;

