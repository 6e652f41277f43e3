-- Rollback of 20261124190300_vantage_sync_health.sql: the health view and its rule functions.
DROP VIEW IF EXISTS public.vantage_sync_health;
DROP FUNCTION IF EXISTS public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer,
  integer, interval, interval, interval, interval, timestamptz);
DROP FUNCTION IF EXISTS public.vantage_sync_health_name(integer);
DROP FUNCTION IF EXISTS public.vantage_sync_health_rank_of(text, timestamptz, timestamptz, interval, interval,
  timestamptz);
