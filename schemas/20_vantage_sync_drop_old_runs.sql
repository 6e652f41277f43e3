-- Run history that stops growing: vantage_sync_drop_old_runs(p_keep_months) detaches and drops
-- the monthly partitions of vantage_sync_runs whose every run started more than p_keep_months
-- months ago (default 13: this month and a full year before it stay). Schedule it monthly with
-- pg_cron beside create_vantage_sync_run_partitions (README, docs/deploy.md).
--
-- Why partitions and not DELETE: dropping a month is one catalog change, with no dead rows to
-- vacuum and no index bloat; the history was partitioned by month for this (20261124190100).
--
-- Safety:
--   * p_keep_months below 1 is refused (22023, so PostgREST answers 400): the current month
--     holds the runs in progress. Above 1200 (a century) too: the date arithmetic would overflow.
--   * A partition that still holds a running run is never dropped: it is skipped, and the
--     result says which run keeps it. Writers are locked out (SHARE ROW EXCLUSIVE on the parent)
--     between that check and the detach, so no run can change status in between; readers are
--     not blocked until the detach itself.
--   * The default partition is never dropped (it catches rows outside the prepared months). When
--     it holds runs older than the cutoff, the result says how many.
--   * Same advisory lock as create_vantage_sync_run_partitions: the two never interleave.
--
-- SECURITY DEFINER because detaching and dropping a partition need the table owner's rights;
-- search_path is empty and every name qualified; DateStyle is fixed so the partition bounds that
-- pg_get_expr prints read back as the same instants. EXECUTE for service_role only.

CREATE FUNCTION public.vantage_sync_drop_old_runs(p_keep_months integer DEFAULT 13)
RETURNS TABLE (
  partition_name text,
  range_from     timestamptz,
  range_to       timestamptz,
  run_count      bigint,
  dropped        boolean,
  reason         text
)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
SET datestyle = 'ISO, YMD'
AS $$
DECLARE
  v_cutoff  timestamptz;
  v_part    record;
  v_bounds  text[];
  v_running uuid;
  v_started timestamptz;
BEGIN
  IF p_keep_months IS NULL OR p_keep_months < 1 OR p_keep_months > 1200 THEN
    RAISE EXCEPTION 'keep_months must be a whole number of months from 1 to 1200 (got %): the current month holds the runs in progress and is always kept',
        coalesce(p_keep_months::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Pass how many months of run history to keep, e.g. 13 (the default).';
  END IF;

  PERFORM pg_advisory_xact_lock(hashtext('public.vantage_sync_runs partitions'));
  LOCK TABLE public.vantage_sync_runs IN SHARE ROW EXCLUSIVE MODE;
  v_cutoff := now() - make_interval(months => p_keep_months);

  FOR v_part IN
    SELECT c.relname::text AS relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_catalog.pg_inherits AS i
      JOIN pg_catalog.pg_class AS c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'public.vantage_sync_runs'::regclass
     ORDER BY c.relname
  LOOP
    IF v_part.bound = 'DEFAULT' THEN
      EXECUTE format('SELECT count(*) FROM vantage_sync_private.%I WHERE started_at < $1', v_part.relname)
        INTO run_count USING v_cutoff;
      IF run_count > 0 THEN
        partition_name := v_part.relname; range_from := NULL; range_to := NULL; dropped := false;
        reason := format('the default partition is never dropped; it holds %s run(s) started before %s',
                         run_count, v_cutoff);
        RETURN NEXT;
      END IF;
      CONTINUE;
    END IF;

    v_bounds := regexp_match(v_part.bound, '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$');
    -- Not a plain range (MINVALUE or MAXVALUE bounds: not made by this project), or a month that
    -- still holds runs started within the kept months.
    CONTINUE WHEN v_bounds IS NULL OR v_bounds[2]::timestamptz > v_cutoff;

    partition_name := v_part.relname;
    range_from := v_bounds[1]::timestamptz;
    range_to := v_bounds[2]::timestamptz;
    EXECUTE format(
      'SELECT count(*), (array_agg(run_id ORDER BY started_at) FILTER (WHERE status = ''running''))[1],
              min(started_at) FILTER (WHERE status = ''running'')
         FROM vantage_sync_private.%I', v_part.relname)
      INTO run_count, v_running, v_started;

    IF v_running IS NOT NULL THEN
      dropped := false;
      reason := format('kept: run %s (started %s) is still running; finish, abort or sweep it first',
                       v_running, v_started);
    ELSE
      EXECUTE format('ALTER TABLE public.vantage_sync_runs DETACH PARTITION vantage_sync_private.%I',
                     v_part.relname);
      EXECUTE format('DROP TABLE vantage_sync_private.%I', v_part.relname);
      dropped := true;
      reason := format('dropped: every run in it started before %s', v_cutoff);
    END IF;
    RETURN NEXT;
  END LOOP;
END;
$$;

COMMENT ON FUNCTION public.vantage_sync_drop_old_runs(integer) IS
  'Detaches and drops the monthly run partitions older than p_keep_months (default 13); never one holding a running run. Returns each partition it dropped or kept, and why.';

REVOKE ALL ON FUNCTION public.vantage_sync_drop_old_runs(integer) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.vantage_sync_drop_old_runs(integer) TO service_role;

