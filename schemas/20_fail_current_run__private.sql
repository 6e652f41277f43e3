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

