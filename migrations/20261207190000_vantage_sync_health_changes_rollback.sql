-- Rollback of 20261207190000_vantage_sync_health_changes.sql: the function goes. The widget then
-- reads every row at each refresh, as it did before (it falls back when the function is absent).
DROP FUNCTION IF EXISTS public.vantage_sync_health_changes(timestamptz);
