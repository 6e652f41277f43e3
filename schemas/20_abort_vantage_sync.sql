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

COMMENT ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) IS
  'Marks the running sync of p_resource failed by hand (error code ABORTED); returns its run id.';

REVOKE ALL ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.abort_vantage_sync(text, text, text, uuid) TO service_role;

