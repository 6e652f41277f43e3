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

