-- Fix 2.
CREATE FUNCTION vantage_sync_private.release_retries_of_policy()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  -- The limit OLD.resource has from now on: none once its schedule is gone or renamed.
  v_max integer := CASE WHEN TG_OP = 'UPDATE' AND NEW.resource = OLD.resource
                        THEN NEW.retry_max_attempts END;
BEGIN
  UPDATE public.vantage_sync_state AS s
     SET next_attempt_at = NULL
   WHERE s.resource = OLD.resource
     AND s.next_attempt_at IS NOT NULL
     AND (v_max IS NULL OR s.consecutive_failures >= v_max);
  RETURN NULL;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.release_retries_of_policy()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_schedules_release_retries
  AFTER UPDATE OF resource, retry_max_attempts OR DELETE ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.release_retries_of_policy();

