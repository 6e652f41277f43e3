CREATE FUNCTION vantage_sync_private.check_webhook_events()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  -- The same list as vantage_sync_webhooks_events_check.
  v_known   text[] := ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale',
                            'completed', 'slow', 'late'];
  v_unknown text[];
BEGIN
  IF NEW.events IS NULL OR cardinality(NEW.events) = 0 THEN
    RAISE EXCEPTION 'a webhook subscription needs at least one event, from: %', array_to_string(v_known, ', ')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Leave events out to get failed, stuck, repeated_failures, recovered and stale.';
  END IF;
  SELECT array_agg(DISTINCT coalesce(e, 'null') ORDER BY coalesce(e, 'null')) INTO v_unknown
    FROM unnest(NEW.events) AS e
   WHERE e IS NULL OR NOT (e = ANY (v_known));
  IF v_unknown IS NOT NULL THEN
    RAISE EXCEPTION 'unknown webhook event%: %; the events are %',
        CASE WHEN cardinality(v_unknown) > 1 THEN 's' ELSE '' END,
        array_to_string(v_unknown, ', '), array_to_string(v_known, ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN NEW;
END;
$$;

REVOKE ALL ON FUNCTION vantage_sync_private.check_webhook_events()
  FROM PUBLIC, anon, authenticated, service_role;

CREATE TRIGGER vantage_sync_webhooks_check_events
  BEFORE INSERT OR UPDATE OF events ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook_events();

