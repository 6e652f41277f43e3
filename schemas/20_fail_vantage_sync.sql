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

COMMENT ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) IS
  'Fails the running sync of p_resource (and p_run_id, when given) with error objects; keeps the watermark.';

REVOKE ALL ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.fail_vantage_sync(text, jsonb, uuid) TO service_role;

