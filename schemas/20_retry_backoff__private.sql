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

REVOKE ALL ON FUNCTION vantage_sync_private.retry_backoff(integer, interval, numeric, interval) FROM PUBLIC, anon, authenticated, service_role;

