-- The name of a health rank.
CREATE FUNCTION public.vantage_sync_health_name(p_rank integer)
RETURNS text
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT (ARRAY['red', 'yellow', 'green'])[p_rank]
$$;

REVOKE ALL ON FUNCTION public.vantage_sync_health_name(integer) FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_health_name(integer) TO authenticated, service_role;

GRANT EXECUTE ON FUNCTION public.vantage_sync_health_name(integer) TO anon;

