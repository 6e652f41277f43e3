-- Rollback of 20261125060000_vantage_sync_retry_policy_fixes.sql: no trigger on schedule changes,
-- and the backoff and the retry trigger's function exactly as 20261125050000 made them. Waits it
-- cleared stay cleared.
DROP TRIGGER IF EXISTS vantage_sync_schedules_release_retries ON public.vantage_sync_schedules;
DROP FUNCTION IF EXISTS vantage_sync_private.release_retries_of_policy();

CREATE OR REPLACE FUNCTION vantage_sync_private.retry_backoff(p_failures integer, p_initial interval,
                                                              p_multiplier numeric, p_cap interval)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
  SELECT least(p_cap, p_initial * power(p_multiplier, greatest(p_failures - 1, 0))::double precision)
$$;

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
      NEW.next_attempt_at := v_now + vantage_sync_private.retry_backoff(NEW.consecutive_failures,
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
