-- Fix 3; otherwise as 20261125050000 wrote it.
CREATE OR REPLACE FUNCTION vantage_sync_private.apply_retry_policy()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_policy record;
  v_now    timestamptz := clock_timestamp();
BEGIN
  IF NEW.last_sync_status = 'running' AND OLD.last_sync_status IS DISTINCT FROM 'running' THEN
    IF OLD.next_attempt_at > v_now THEN
      SELECT * INTO v_policy FROM public.vantage_sync_retry_policy(NEW.resource);
      RAISE EXCEPTION 'resource "%" may not start before % (attempt % of % failed; the retry policy waits)',
          NEW.resource, OLD.next_attempt_at, OLD.consecutive_failures, v_policy.max_attempts
        USING ERRCODE = 'PT409',
              DETAIL = json_build_object('resource', NEW.resource, 'status', OLD.last_sync_status,
                                         'next_attempt_at', OLD.next_attempt_at,
                                         'attempt', OLD.consecutive_failures + 1,
                                         'max_attempts', v_policy.max_attempts)::text,
              HINT = 'Wait until next_attempt_at, or clear it as service_role to start now.';
    END IF;
    NEW.next_attempt_at := NULL;
  ELSIF NEW.last_sync_status = 'failed' AND OLD.last_sync_status = 'running' THEN
    SELECT * INTO v_policy FROM public.vantage_sync_retry_policy(NEW.resource);
    IF v_policy.max_attempts IS NOT NULL
       AND NEW.consecutive_failures < v_policy.max_attempts
       AND NEW.errors -> 0 ->> 'code' IS DISTINCT FROM 'STUCK_SUPERSEDED' THEN
      -- From the failure's own time (the run's completed_at), so the wait is exact.
      NEW.next_attempt_at := coalesce(NEW.completed_at, v_now) + vantage_sync_private.retry_backoff(NEW.consecutive_failures,
        v_policy.initial_backoff, v_policy.backoff_multiplier, v_policy.max_backoff);
    ELSE
      NEW.next_attempt_at := NULL;
    END IF;
  ELSIF NEW.last_sync_status = 'success' THEN
    NEW.next_attempt_at := NULL;
  END IF;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.apply_retry_policy() FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_state_retry_policy
  BEFORE UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.apply_retry_policy();

