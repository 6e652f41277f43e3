-- As 20261124190200 made it, but with no counts at all (three NULLs) the run completes without
-- them: 0 and counts_reported = false on the state row (its spec columns are NOT NULL), NULL in
-- the history. One or two of three are refused, like a negative count.
CREATE OR REPLACE FUNCTION public.complete_vantage_sync(
  p_resource        text,
  p_records_synced  integer,
  p_records_created integer,
  p_records_updated integer,
  p_run_id          uuid DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_state    public.vantage_sync_state;
  v_now      timestamptz;
  v_reported boolean := p_records_synced IS NOT NULL OR p_records_created IS NOT NULL
                        OR p_records_updated IS NOT NULL;
BEGIN
  IF v_reported AND (p_records_synced IS NULL OR p_records_created IS NULL OR p_records_updated IS NULL) THEN
    RAISE EXCEPTION 'give all three record counts (synced, created, updated) or none (got synced %, created %, updated %)',
        coalesce(p_records_synced::text, 'null'), coalesce(p_records_created::text, 'null'),
        coalesce(p_records_updated::text, 'null')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_records_synced < 0 OR p_records_created < 0 OR p_records_updated < 0 THEN
    RAISE EXCEPTION 'record counts must be whole numbers >= 0 (got synced %, created %, updated %)',
        p_records_synced, p_records_created, p_records_updated
      USING ERRCODE = 'invalid_parameter_value';
  END IF;

  v_state := vantage_sync_private.lock_running(p_resource, p_run_id, 'complete');
  v_now := clock_timestamp();

  UPDATE public.vantage_sync_state
     SET last_sync_status     = 'success',
         last_sync_time       = v_now,
         records_synced       = coalesce(p_records_synced, 0),
         records_created      = coalesce(p_records_created, 0),
         records_updated      = coalesce(p_records_updated, 0),
         counts_reported      = v_reported,
         errors               = '[]'::jsonb,
         completed_at         = v_now,
         consecutive_failures = 0
   WHERE resource = p_resource;
  UPDATE public.vantage_sync_runs
     SET status = 'success', completed_at = v_now, records_synced = p_records_synced,
         records_created = p_records_created, records_updated = p_records_updated
   WHERE run_id = v_state.current_run_id AND started_at = v_state.started_at;
END;
$$;

COMMENT ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) IS
  'Completes the running sync of p_resource (and p_run_id, when given); advances the watermark.';

REVOKE ALL ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid)
  FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) TO service_role;

COMMENT ON FUNCTION public.complete_vantage_sync(text, integer, integer, integer, uuid) IS
  'Completes the running sync of p_resource (and p_run_id, when given); advances the watermark. Three NULL counts: completed without counts (state row 0 and counts_reported false, history NULL).';

