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

