-- Three fixes to the retry policy of 20261125050000.
--
-- 1. The backoff never overflows. initial x multiplier^(n-1) was computed before the cap was
--    applied, so a policy its CHECKs allow (1 day x 10 and 12 attempts; 1 minute x 2 and 40)
--    raised 22008 "interval out of range" on a late failure. That error came from the trigger
--    under fail_vantage_sync, abort_vantage_sync and sweep_stuck_vantage_syncs, so the failure
--    was never recorded, and one such resource made the whole sweep fail, leaving every stuck
--    run of every resource running. The cap is now chosen before the interval is built
--    (compared in logarithms), so the wait is the same as before wherever it was computed.
-- 2. A wait ends when its policy does. next_attempt_at is the time a policy with retries left
--    allows the next start; when a resource's schedule is deleted, its retry_max_attempts set
--    to NULL, or lowered to the failures already counted, no retry is left to wait for, so the
--    pending next_attempt_at is cleared. Before, the start stayed refused ("attempt 1 of <NULL>
--    failed"), and the health view said "gave up" while refusing the start, or "retry 2 of  at".
--    Other changes (backoff, a higher limit) apply from the next failure on.
-- 3. The wait counts from the failure's recorded time: next_attempt_at = completed_at + backoff,
--    exactly (it was the trigger's own clock_timestamp(), some microseconds later).

-- Fix 1.
CREATE OR REPLACE FUNCTION vantage_sync_private.retry_backoff(p_failures integer, p_initial interval,
                                                              p_multiplier numeric, p_cap interval)
RETURNS interval
LANGUAGE sql
IMMUTABLE
SET search_path = ''
AS $$
  SELECT CASE
           WHEN p_initial >= p_cap THEN p_cap
           -- initial x multiplier^(n-1) >= cap, in logarithms: no interval is built. (greatest
           -- and nullif keep ln's arguments legal for any input; the CHECKs already do.)
           WHEN greatest(p_failures - 1, 0) * ln(greatest(p_multiplier, 1)::double precision)
                >= ln(greatest(date_part('epoch', p_cap) / nullif(date_part('epoch', p_initial), 0), 1))
           THEN p_cap
           -- Below the cap here, so within range; least() only absorbs rounding at the cap.
           ELSE least(p_cap, p_initial * power(p_multiplier, greatest(p_failures - 1, 0))::double precision)
         END
$$;

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

CREATE TRIGGER vantage_sync_schedules_release_retries
  AFTER UPDATE OF resource, retry_max_attempts OR DELETE ON public.vantage_sync_schedules
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.release_retries_of_policy();

REVOKE ALL ON FUNCTION vantage_sync_private.release_retries_of_policy()
  FROM PUBLIC, anon, authenticated, service_role;
