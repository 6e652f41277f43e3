-- Rollback of 20261124190200_vantage_sync_state_machine.sql: back to the ETL-001 functions
-- (void, no run ids, no transition checks), without the run-tracking columns.

DROP TRIGGER IF EXISTS vantage_sync_state_fail_run_on_delete ON public.vantage_sync_state;
DROP FUNCTION IF EXISTS vantage_sync_private.fail_run_of_deleted_state();
DROP FUNCTION IF EXISTS public.sweep_stuck_vantage_syncs();
DROP FUNCTION IF EXISTS public.abort_vantage_sync(text, text, text, uuid);
DROP FUNCTION IF EXISTS public.fail_vantage_sync(text, jsonb, uuid);
DROP FUNCTION IF EXISTS public.complete_vantage_sync(text, integer, integer, integer, uuid);
DROP FUNCTION IF EXISTS public.start_vantage_sync(text);
DROP FUNCTION IF EXISTS vantage_sync_private.lock_running(text, uuid, text);
DROP FUNCTION IF EXISTS vantage_sync_private.run_detail(public.vantage_sync_state);
DROP FUNCTION IF EXISTS vantage_sync_private.require_valid_errors(jsonb);
DROP FUNCTION IF EXISTS vantage_sync_private.fail_current_run(text, jsonb, timestamptz);

ALTER TABLE public.vantage_sync_state
  DROP CONSTRAINT IF EXISTS vantage_sync_state_running_run_check,
  DROP COLUMN IF EXISTS current_run_id,
  DROP COLUMN IF EXISTS consecutive_failures;

-- The ETL-001 functions as 20251105132840_vantage_sync_state.sql created them.
CREATE FUNCTION public.start_vantage_sync(p_resource text)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  IF p_resource IS NULL OR btrim(p_resource) = '' THEN
    RAISE EXCEPTION 'resource must be a non-empty name' USING ERRCODE = 'invalid_parameter_value';
  END IF;

  -- Upsert: a resource the migration did not seed starts tracking on its first sync.
  INSERT INTO public.vantage_sync_state AS s (resource, last_sync_status, started_at)
  VALUES (p_resource, 'running', clock_timestamp())
  ON CONFLICT (resource) DO UPDATE
    SET last_sync_status = 'running',
        started_at       = excluded.started_at,
        completed_at     = NULL,
        duration_ms      = NULL;
END;
$$;

CREATE FUNCTION public.complete_vantage_sync(
  p_resource        text,
  p_records_synced  integer,
  p_records_created integer,
  p_records_updated integer
)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_now timestamptz := clock_timestamp();
BEGIN
  UPDATE public.vantage_sync_state
     SET last_sync_status = 'success',
         last_sync_time   = v_now,
         records_synced   = p_records_synced,
         records_created  = p_records_created,
         records_updated  = p_records_updated,
         errors           = '[]'::jsonb,
         completed_at     = v_now
   WHERE resource = p_resource;

  IF NOT FOUND THEN
    -- PTxxx: PostgREST answers with HTTP status xxx, so API callers get a 404, not a 500.
    RAISE EXCEPTION 'unknown resource "%": call start_vantage_sync first', p_resource
      USING ERRCODE = 'PT404';
  END IF;
END;
$$;

CREATE FUNCTION public.fail_vantage_sync(p_resource text, p_errors jsonb)
RETURNS void
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
BEGIN
  -- last_sync_time is left alone on purpose: a failed sync must not advance the watermark,
  -- or the next incremental sync would skip the records this one never loaded.
  UPDATE public.vantage_sync_state
     SET last_sync_status = 'failed',
         errors           = coalesce(p_errors, '[]'::jsonb),
         completed_at     = clock_timestamp()
   WHERE resource = p_resource;

  IF NOT FOUND THEN
    -- PTxxx: PostgREST answers with HTTP status xxx, so API callers get a 404, not a 500.
    RAISE EXCEPTION 'unknown resource "%": call start_vantage_sync first', p_resource
      USING ERRCODE = 'PT404';
  END IF;
END;
$$;

REVOKE ALL ON FUNCTION public.start_vantage_sync(text) FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer)
  FROM PUBLIC, anon, authenticated;
REVOKE ALL ON FUNCTION public.fail_vantage_sync(text, jsonb) FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.start_vantage_sync(text) TO service_role;
GRANT EXECUTE ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer)
  TO service_role;
GRANT EXECUTE ON FUNCTION public.fail_vantage_sync(text, jsonb) TO service_role;
