-- Rollback of 20261125020100_vantage_sync_pure_rules_for_anon.sql.
REVOKE EXECUTE ON FUNCTION public.vantage_sync_default_schedule() FROM anon;
REVOKE EXECUTE ON FUNCTION public.vantage_sync_health_name(integer) FROM anon;
REVOKE EXECUTE ON FUNCTION public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz) FROM anon;
REVOKE EXECUTE ON FUNCTION public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz) FROM anon;
