-- Rollback of 20261124220000_vantage_sync_start_run.sql.
DROP FUNCTION IF EXISTS public.start_vantage_sync_run(text);
