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

