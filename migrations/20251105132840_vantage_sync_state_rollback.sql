-- Rollback of ETL-001 (20251105132840_vantage_sync_state.sql): removes the table, its triggers,
-- policies and indexes (dropped with it) and every function the migration created.
--
-- WARNING: this deletes all sync state. Only for removing sync tracking completely; the forward
-- migration applies again afterwards and re-seeds the seven resources as never_run.

DROP FUNCTION IF EXISTS public.fail_vantage_sync(text, jsonb);
DROP FUNCTION IF EXISTS public.complete_vantage_sync(text, integer, integer, integer);
DROP FUNCTION IF EXISTS public.start_vantage_sync(text);
DROP TABLE IF EXISTS public.vantage_sync_state;
DROP FUNCTION IF EXISTS public.vantage_sync_state_compute_duration();
DROP FUNCTION IF EXISTS public.vantage_sync_state_touch_updated_at();
