-- sync_watermark: the point an incremental ETL job syncs from, so that it loses nothing.
--
-- Why: last_sync_time is the time the last successful run *completed*. A job that asks Vantage
-- for "changed since last_sync_time" misses every record changed while that run was in progress
-- (after the run had read past it, before the run completed). sync_watermark is the *started_at*
-- of the last successful run: a record changed at any moment after that start is changed
-- "since sync_watermark", so the next run reads it (a record changed while a run was reading may
-- be read by both runs; ETL upserts make that harmless).
--
-- Like last_sync_time it moves only when a run succeeds: a failed, aborted, swept or
-- superseded run keeps it, and so does a start. last_sync_time keeps the spec's meaning (the
-- last success's completion time) and every use the spec and the health rules make of it.
--
-- A trigger keeps it, not complete_vantage_sync alone, so every writer path holds it: the edge,
-- the spec's direct SQL, a row service_role inserts as already successful.
--
-- start_vantage_sync_run, the edge's one-call start, now also returns it: the job is told the
-- point to sync from in the answer that starts its run.

ALTER TABLE public.vantage_sync_state ADD COLUMN sync_watermark timestamptz NULL;

COMMENT ON COLUMN public.vantage_sync_state.sync_watermark IS
  'started_at of the last successful run: sync records changed since this (NULL: never succeeded, sync everything). Kept when a run fails.';

-- Backfill, as exactly as the data allows:
-- * the last run succeeded: its own started_at (never later than its completion);
-- * the last run failed or is running: the start of the latest successful run in the history,
--   if the history still holds it (runs are recorded since 20261124190100);
-- * otherwise NULL, so the next run syncs everything: a guessed point could lose records, and
--   losing records is what the watermark exists to prevent. An operator who knows a safe point
--   sets it as service_role.
UPDATE public.vantage_sync_state AS s
   SET sync_watermark = coalesce(
         CASE WHEN s.last_sync_status = 'success' THEN least(s.started_at, s.last_sync_time) END,
         (SELECT max(r.started_at) FROM public.vantage_sync_runs AS r
           WHERE r.resource = s.resource AND r.status = 'success'
             AND r.started_at <= s.last_sync_time))
 WHERE s.last_sync_time IS NOT NULL;

-- The run that just succeeded (or the successful row being inserted) started at NEW.started_at.
CREATE FUNCTION vantage_sync_private.advance_sync_watermark()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  NEW.sync_watermark := NEW.started_at;
  RETURN NEW;
END;
$$;

-- WHEN clauses, so a start or a failure calls no function at all.
CREATE TRIGGER vantage_sync_state_sync_watermark
  BEFORE UPDATE OF last_sync_status ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (OLD.last_sync_status = 'running' AND NEW.last_sync_status = 'success')
  EXECUTE FUNCTION vantage_sync_private.advance_sync_watermark();

CREATE TRIGGER vantage_sync_state_sync_watermark_on_insert
  BEFORE INSERT ON public.vantage_sync_state
  FOR EACH ROW
  WHEN (NEW.last_sync_status = 'success' AND NEW.sync_watermark IS NULL)
  EXECUTE FUNCTION vantage_sync_private.advance_sync_watermark();

REVOKE ALL ON FUNCTION vantage_sync_private.advance_sync_watermark()
  FROM PUBLIC, anon, authenticated, service_role;

-- The edge's start: run id, started_at and the watermark to sync from, in one transaction
-- while the state row is locked. Its OUT parameters change, so it is dropped and created again
-- (as 20261124220000 made it, plus sync_watermark).
DROP FUNCTION public.start_vantage_sync_run(text);

CREATE FUNCTION public.start_vantage_sync_run(
  p_resource         text,
  OUT run_id         uuid,
  OUT started_at     timestamptz,
  OUT sync_watermark timestamptz
)
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  run_id := public.start_vantage_sync(p_resource);
  SELECT s.started_at, s.sync_watermark INTO started_at, sync_watermark
    FROM public.vantage_sync_state AS s
   WHERE s.resource = p_resource;
END;
$$;

COMMENT ON FUNCTION public.start_vantage_sync_run(text) IS
  'Starts a sync run like start_vantage_sync; returns its run id, started_at (database clock) and sync_watermark, the point to sync from (NULL: everything).';

REVOKE ALL ON FUNCTION public.start_vantage_sync_run(text) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.start_vantage_sync_run(text) TO service_role;
