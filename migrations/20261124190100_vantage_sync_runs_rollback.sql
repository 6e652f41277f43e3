-- Rollback of 20261124190100_vantage_sync_runs.sql. WARNING: deletes all run history.
DROP FUNCTION IF EXISTS public.create_vantage_sync_run_partitions(integer);
DROP TABLE IF EXISTS public.vantage_sync_runs;  -- with every partition
DROP SCHEMA IF EXISTS vantage_sync_private CASCADE;
