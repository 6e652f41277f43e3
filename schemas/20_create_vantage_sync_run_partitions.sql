-- Creates the monthly partitions from the current month (UTC) through p_months_ahead months
-- ahead; returns how many it created. Rows that already landed in the default partition for a
-- new month are moved into it. SECURITY DEFINER because attaching a partition needs the table
-- owner's rights, which the service role (or pg_cron's job) does not have; an advisory lock
-- makes concurrent calls take turns.
CREATE FUNCTION public.create_vantage_sync_run_partitions(p_months_ahead integer DEFAULT 3)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_first timestamp := date_trunc('month', now() AT TIME ZONE 'UTC');
  v_from  timestamptz;
  v_to    timestamptz;
  v_name  text;
  v_made  integer := 0;
BEGIN
  IF p_months_ahead IS NULL OR p_months_ahead < 0 OR p_months_ahead > 120 THEN
    RAISE EXCEPTION 'p_months_ahead must be between 0 and 120 (got %)', p_months_ahead
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('public.vantage_sync_runs partitions'));

  FOR i IN 0 .. p_months_ahead LOOP
    v_from := (v_first + make_interval(months => i)) AT TIME ZONE 'UTC';
    v_to   := (v_first + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
    v_name := 'vantage_sync_runs_' || to_char(v_first + make_interval(months => i), 'YYYY_MM');
    CONTINUE WHEN to_regclass('vantage_sync_private.' || v_name) IS NOT NULL;

    EXECUTE format(
      'CREATE TABLE vantage_sync_private.%I (LIKE public.vantage_sync_runs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
      v_name);
    EXECUTE format(
      'WITH moved AS (DELETE FROM vantage_sync_private.vantage_sync_runs_default
                       WHERE started_at >= %L AND started_at < %L RETURNING *)
       INSERT INTO vantage_sync_private.%I SELECT * FROM moved',
      v_from, v_to, v_name);
    EXECUTE format(
      'ALTER TABLE public.vantage_sync_runs ATTACH PARTITION vantage_sync_private.%I FOR VALUES FROM (%L) TO (%L)',
      v_name, v_from, v_to);
    EXECUTE format('ALTER TABLE vantage_sync_private.%I ENABLE ROW LEVEL SECURITY', v_name);
    v_made := v_made + 1;
  END LOOP;
  RETURN v_made;
END;
$$;

REVOKE ALL ON FUNCTION public.create_vantage_sync_run_partitions(integer)
  FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.create_vantage_sync_run_partitions(integer) TO service_role;


-- The current month and the three ahead exist from the start; a monthly pg_cron job (README)
-- keeps preparing the next ones. The default partition (12_vantage_sync_runs_default.sql)
-- takes any row outside them.
SELECT public.create_vantage_sync_run_partitions(3);
