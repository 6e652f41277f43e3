-- The spec's thresholds for a resource without a schedule row: the one place they live for
-- queries (the table's column defaults say the same for new rows). It sets its search_path
-- (lint 0011), so it is not inlined: the health view reads it in scalar subqueries, which run
-- once per query.
CREATE FUNCTION public.vantage_sync_default_schedule()
RETURNS TABLE (stale_after interval, stuck_after interval, slow_after interval)
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT interval '24 hours', interval '30 minutes', interval '5 minutes'
$$;

REVOKE ALL ON FUNCTION public.vantage_sync_default_schedule() FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_default_schedule() TO authenticated, service_role;

-- The pure health rules may be called by anyone, as they already could be.
--
-- Why: vantage_sync_default_schedule, vantage_sync_health_name, vantage_sync_health_rank_of and
-- vantage_sync_alerts_of are SQL functions that compute from their arguments alone (no table).
-- Postgres inlines such functions into the calling query, and a plan cached by PostgREST for a
-- signed-in user is reused for the next caller whatever its role: the EXECUTE privilege is
-- checked when the plan is made, not each time it runs. So the REVOKE from anon did not hold:
-- the reliability suite's attack matrix called all four as anon. Keeping them inlinable keeps
-- vantage_sync_health fast (2,000 rows: 11 ms inlined, 220 ms with the functions made opaque by
-- a SET clause), and they reveal nothing an anonymous caller could not compute itself. So the
-- grant now says what is true. Everything that reads a table (vantage_sync_effective_schedule,
-- the view, the tables) stays closed to anon: there Postgres checks the table's privileges and
-- RLS at every execution, and the matrix confirms it.
GRANT EXECUTE ON FUNCTION public.vantage_sync_default_schedule() TO anon;

