-- The effective policy of a resource: one row; max_attempts NULL when it has none.
CREATE FUNCTION public.vantage_sync_retry_policy(p_resource text)
RETURNS TABLE (max_attempts integer, initial_backoff interval, backoff_multiplier numeric,
               max_backoff interval)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT sc.retry_max_attempts,
         coalesce(sc.retry_initial_backoff, interval '1 minute'),
         coalesce(sc.retry_backoff_multiplier, 2),
         coalesce(sc.retry_max_backoff, greatest(interval '1 hour', coalesce(sc.retry_initial_backoff, interval '1 minute')))
    FROM (SELECT 1) AS one
    LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = p_resource
$$;

COMMENT ON FUNCTION public.vantage_sync_retry_policy(text) IS
  'The retry policy of a resource with its defaults filled in (max_attempts NULL: no policy).';

REVOKE ALL ON FUNCTION public.vantage_sync_retry_policy(text) FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_retry_policy(text) TO authenticated, service_role;

