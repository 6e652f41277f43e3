-- Every event, opt-in: a subscription may also pick `completed`, `slow` and `late`.
--
-- Why: the spec's future work asks for a hook on "completion/failure", and a subscription could
-- only hear about failures and alerts (failed, stuck, repeated_failures, recovered, stale).
-- New events:
--   completed  every successful run (running -> success), recovered or not
--   slow       a run ended (success or failure) after more than its slow_after, the rule of the
--              `slow` alert (once per run)
--   late       the sweep found a scheduled resource late (20261202100100), once per missed run
--              (per last start)
-- A subscription gets only the events it lists. The column now defaults to the alerting set as
-- it was (failed, stuck, repeated_failures, recovered, stale), so existing subscriptions, and new
-- ones that name no events, see no new traffic.
--
-- An unknown event, or no event at all, is refused with a sentence naming the known ones (22023:
-- PostgREST answers 400) instead of the CHECK's 23514; the CHECK stays as the backstop when
-- triggers are off. Nothing changes on refusal.
--
-- Payloads gain what the new events are about: started_at, completed_at, duration_ms,
-- records_synced, sync_watermark, slow_after, next_sync_due_at, late_grace.
-- sweep_vantage_syncs also returns late_events (dropped and created again: its result type
-- changes).

ALTER TABLE public.vantage_sync_webhooks
  DROP CONSTRAINT vantage_sync_webhooks_events_check,
  ADD CONSTRAINT vantage_sync_webhooks_events_check CHECK (
    cardinality(events) > 0
    AND events <@ ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale',
                        'completed', 'slow', 'late']::text[]),
  ALTER COLUMN events SET DEFAULT ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale']::text[];

COMMENT ON COLUMN public.vantage_sync_webhooks.events IS
  'Events to deliver: failed, stuck, repeated_failures, recovered, stale (the default), completed, slow, late.';

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

CREATE TRIGGER vantage_sync_webhooks_check_events
  BEFORE INSERT OR UPDATE OF events ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook_events();

-- As 20261125040000 made it, with more of the row in the payload.
CREATE OR REPLACE FUNCTION vantage_sync_private.enqueue_webhook_event(
  p_event    text,
  p_resource text,
  p_run_id   uuid,
  p_key      text
)
RETURNS integer
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_payload jsonb;
  v_count   integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM public.vantage_sync_webhooks AS w
                  WHERE w.active AND p_event = ANY (w.events)
                    AND (w.resources IS NULL OR p_resource = ANY (w.resources))) THEN
    RETURN 0;
  END IF;
  SELECT jsonb_build_object(
           'event', p_event,
           'resource', h.resource,
           'run_id', p_run_id,
           'health', h.health,
           'status', h.last_sync_status,
           'alerts', to_jsonb(h.alerts),
           'errors', h.errors,
           'consecutive_failures', h.consecutive_failures,
           'last_sync_time', h.last_sync_time,
           'started_at', h.started_at,
           'completed_at', h.completed_at,
           'duration_ms', h.duration_ms,
           'records_synced', h.records_synced,
           'sync_watermark', h.sync_watermark,
           'slow_after', h.slow_after,
           'next_sync_due_at', h.next_sync_due_at,
           'late_grace', h.late_grace,
           'occurred_at', clock_timestamp())
    INTO v_payload
    FROM public.vantage_sync_health AS h
   WHERE h.resource = p_resource;
  INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
  SELECT w.webhook_id, p_event, p_key, p_resource, p_run_id, v_payload
    FROM public.vantage_sync_webhooks AS w
   WHERE w.active AND p_event = ANY (w.events)
     AND (w.resources IS NULL OR p_resource = ANY (w.resources))
  ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING;
  GET DIAGNOSTICS v_count = ROW_COUNT;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

-- The transitions that are events. Events of one transition are queued in this order: failed or
-- stuck, repeated_failures; completed, recovered; then slow.
CREATE OR REPLACE FUNCTION vantage_sync_private.enqueue_transition_events()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_code   text := NEW.errors -> 0 ->> 'code';
  v_run    text := coalesce(NEW.current_run_id::text, NEW.resource || '@' || NEW.started_at);
  v_wanted text[];
  v_slow   interval;
BEGIN
  -- One look at the subscriptions: a transition nobody listens to costs nothing more.
  SELECT array_agg(DISTINCT e) INTO v_wanted
    FROM public.vantage_sync_webhooks AS w CROSS JOIN LATERAL unnest(w.events) AS e
   WHERE w.active AND (w.resources IS NULL OR NEW.resource = ANY (w.resources));
  IF v_wanted IS NULL THEN
    RETURN NULL;
  END IF;

  IF NEW.last_sync_status = 'failed' THEN
    IF v_code IN ('STUCK_TIMEOUT', 'STUCK_SUPERSEDED') THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('stuck', NEW.resource, NEW.current_run_id, v_run || ':stuck');
    ELSE
      PERFORM vantage_sync_private.enqueue_webhook_event('failed', NEW.resource, NEW.current_run_id, v_run || ':failed');
    END IF;
    IF NEW.consecutive_failures = 3 THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('repeated_failures', NEW.resource,
        NEW.current_run_id, v_run || ':repeated_failures');
    END IF;
  ELSIF NEW.last_sync_status = 'success' THEN
    PERFORM vantage_sync_private.enqueue_webhook_event('completed', NEW.resource, NEW.current_run_id, v_run || ':completed');
    IF OLD.consecutive_failures > 0 THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('recovered', NEW.resource, NEW.current_run_id, v_run || ':recovered');
    END IF;
  END IF;

  IF 'slow' = ANY (v_wanted) THEN
    SELECT coalesce(sc.slow_after, d.slow_after) INTO v_slow
      FROM public.vantage_sync_default_schedule() AS d
      LEFT JOIN public.vantage_sync_schedules AS sc ON sc.resource = NEW.resource;
    -- The rule of the `slow` alert (vantage_sync_alerts_of).
    IF NEW.duration_ms * interval '1 millisecond' > v_slow THEN
      PERFORM vantage_sync_private.enqueue_webhook_event('slow', NEW.resource, NEW.current_run_id, v_run || ':slow');
    END IF;
  END IF;
  RETURN NULL;
END;
$$;

-- The cron's one call: as 20261125040000 made it, and it queues `late` once per resource and
-- missed run, counted in late_events.
DROP FUNCTION public.sweep_vantage_syncs();

CREATE FUNCTION public.sweep_vantage_syncs()
RETURNS TABLE (swept integer, stale_events integer, late_events integer, deliveries_due integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_swept integer;
  v_stale integer := 0;
  v_late  integer := 0;
  v_row   record;
BEGIN
  SELECT count(*) INTO v_swept FROM public.sweep_stuck_vantage_syncs();
  FOR v_row IN
    SELECT h.resource, h.last_sync_time, h.alerts, coalesce(h.started_at, h.created_at) AS last_start
      FROM public.vantage_sync_health AS h
     WHERE h.alerts && ARRAY['stale', 'late']
  LOOP
    IF 'stale' = ANY (v_row.alerts) THEN
      v_stale := v_stale + vantage_sync_private.enqueue_webhook_event('stale', v_row.resource, NULL,
        v_row.resource || ':stale:' || coalesce(v_row.last_sync_time::text, 'never'));
    END IF;
    IF 'late' = ANY (v_row.alerts) THEN
      v_late := v_late + vantage_sync_private.enqueue_webhook_event('late', v_row.resource, NULL,
        v_row.resource || ':late:' || v_row.last_start::text);
    END IF;
  END LOOP;
  RETURN QUERY SELECT v_swept, v_stale, v_late,
    (SELECT count(*)::integer FROM public.vantage_sync_webhook_deliveries AS d
      WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp());
END;
$$;

COMMENT ON FUNCTION public.sweep_vantage_syncs() IS
  'Sweeps stuck runs, queues stale and late events, returns how many deliveries are due. For a cron, via the edge.';

REVOKE ALL ON FUNCTION vantage_sync_private.check_webhook_events()
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.sweep_vantage_syncs() FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.sweep_vantage_syncs() TO service_role;
