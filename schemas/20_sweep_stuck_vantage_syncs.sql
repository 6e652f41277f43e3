-- As 20261124190200 made it, but stuck by the last heartbeat when the run sent one; stuck_for is
-- the time since the run's last sign of life (its start when it sent no heartbeat).
CREATE OR REPLACE FUNCTION public.sweep_stuck_vantage_syncs()
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
    SELECT s.resource, s.current_run_id, s.started_at, s.last_heartbeat_at,
           coalesce(s.last_heartbeat_at, s.started_at) AS alive_at,
           coalesce(sc.stuck_after, d.stuck_after) AS stuck_after
      FROM public.vantage_sync_state AS s
      LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = s.resource
     CROSS JOIN public.vantage_sync_default_schedule() AS d
     WHERE s.last_sync_status = 'running'
       AND coalesce(s.last_heartbeat_at, s.started_at) < v_now - coalesce(sc.stuck_after, d.stuck_after)
     ORDER BY s.resource
       FOR UPDATE OF s SKIP LOCKED
  LOOP
    PERFORM vantage_sync_private.fail_current_run(v_row.resource, jsonb_build_array(jsonb_build_object(
      'code', 'STUCK_TIMEOUT',
      'message', CASE WHEN v_row.last_heartbeat_at IS NULL
        THEN format('run %s was still running after %s (stuck after %s); the sweep marked it failed',
                    v_row.current_run_id, date_trunc('second', v_now - v_row.started_at), v_row.stuck_after)
        ELSE format('run %s was last heard from %s ago (stuck after %s); the sweep marked it failed',
                    v_row.current_run_id, date_trunc('second', v_now - v_row.last_heartbeat_at),
                    v_row.stuck_after)
      END,
      'timestamp', v_now)), v_now);
    resource := v_row.resource;
    run_id := v_row.current_run_id;
    started_at := v_row.started_at;
    stuck_for := v_now - v_row.alive_at;
    RETURN NEXT;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION public.sweep_stuck_vantage_syncs() IS
  'Fails every run stuck past its threshold (error code STUCK_TIMEOUT); returns what it swept.';

REVOKE ALL ON FUNCTION public.sweep_stuck_vantage_syncs() FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.sweep_stuck_vantage_syncs() TO service_role;

COMMENT ON FUNCTION public.sweep_stuck_vantage_syncs() IS
  'Fails every run stuck past its threshold (by its last heartbeat, or its start without one; error code STUCK_TIMEOUT); returns what it swept.';

