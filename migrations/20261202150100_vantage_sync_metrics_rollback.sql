-- Rollback of 20261202150100_vantage_sync_metrics.sql: the metrics function goes (the edge's
-- GET metrics then answers 500 internal until the migration is applied again).
DROP FUNCTION IF EXISTS public.vantage_sync_metrics();
