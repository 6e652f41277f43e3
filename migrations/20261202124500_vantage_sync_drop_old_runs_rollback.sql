-- Rollback of 20261202124500_vantage_sync_drop_old_runs.sql: the retention function goes; the
-- partitions it dropped do not come back (their runs were deleted with them).
DROP FUNCTION IF EXISTS public.vantage_sync_drop_old_runs(integer);
