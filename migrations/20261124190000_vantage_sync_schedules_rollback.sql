-- Rollback of 20261124190000_vantage_sync_schedules.sql: schedules, their cycle check and the
-- effective-schedule function. Resources fall back to no thresholds table at all.
DROP FUNCTION IF EXISTS public.vantage_sync_effective_schedule(text);
DROP FUNCTION IF EXISTS public.vantage_sync_default_schedule();
DROP TABLE IF EXISTS public.vantage_sync_schedules;
DROP FUNCTION IF EXISTS public.vantage_sync_schedules_reject_cycles();
