-- The thresholds that apply to one resource: its schedule's, or the defaults.
CREATE FUNCTION public.vantage_sync_effective_schedule(p_resource text)
RETURNS TABLE (
  expected_interval interval,
  stale_after       interval,
  stuck_after       interval,
  slow_after        interval,
  depends_on        text[]
)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT s.expected_interval,
         coalesce(s.stale_after, d.stale_after),
         coalesce(s.stuck_after, d.stuck_after),
         coalesce(s.slow_after, d.slow_after),
         coalesce(s.depends_on, '{}')
    FROM public.vantage_sync_default_schedule() AS d
    LEFT JOIN public.vantage_sync_schedules AS s ON s.resource = p_resource
$$;

REVOKE ALL ON FUNCTION public.vantage_sync_effective_schedule(text) FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_effective_schedule(text) TO authenticated, service_role;

