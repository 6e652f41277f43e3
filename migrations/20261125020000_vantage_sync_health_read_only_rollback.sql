-- Rollback of 20261125020000_vantage_sync_health_read_only.sql.
DROP TRIGGER IF EXISTS vantage_sync_health_read_only ON public.vantage_sync_health;
DROP FUNCTION IF EXISTS public.vantage_sync_health_refuse_write();
