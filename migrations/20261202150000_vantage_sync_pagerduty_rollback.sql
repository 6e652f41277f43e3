-- Rollback of 20261202150000_vantage_sync_pagerduty.sql: the functions as 20261202100200 and
-- 20261125040000 made them, service_role reading every column again. PagerDuty subscriptions
-- are deleted (with their deliveries and episodes): that schema would send them as signed
-- webhooks, with the routing key as the signing secret, to PagerDuty.
DELETE FROM public.vantage_sync_webhooks WHERE kind = 'pagerduty';

DROP TRIGGER IF EXISTS vantage_sync_webhooks_by_kind ON public.vantage_sync_webhooks;
DROP FUNCTION IF EXISTS vantage_sync_private.check_webhook_kind();

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

DROP FUNCTION IF EXISTS vantage_sync_private.resolve_pagerduty_incidents(text, uuid, text);
DROP FUNCTION IF EXISTS vantage_sync_private.webhook_payload(text, text, uuid);
DROP TABLE IF EXISTS vantage_sync_private.pagerduty_incidents;
DROP INDEX IF EXISTS public.vantage_sync_webhook_deliveries_pending_idx;

DROP FUNCTION IF EXISTS public.claim_vantage_sync_deliveries(integer, interval, text);
CREATE FUNCTION public.claim_vantage_sync_deliveries(
  p_limit    integer DEFAULT 20,
  p_lease    interval DEFAULT '2 minutes',
  p_resource text DEFAULT NULL
)
RETURNS TABLE (delivery_id uuid, url text, secret text, event text, resource text,
               payload jsonb, attempt integer)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT d.delivery_id
      FROM public.vantage_sync_webhook_deliveries AS d
     WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
       AND (p_resource IS NULL OR d.resource = p_resource)
     ORDER BY d.next_attempt_at, d.created_at
     LIMIT greatest(1, least(p_limit, 100))
       FOR UPDATE SKIP LOCKED
  ), leased AS (
    UPDATE public.vantage_sync_webhook_deliveries AS d
       SET next_attempt_at = clock_timestamp() + p_lease
      FROM due
     WHERE d.delivery_id = due.delivery_id
    RETURNING d.delivery_id, d.webhook_id, d.event, d.resource, d.payload, d.attempts, d.created_at
  )
  SELECT l.delivery_id, w.url, w.secret, l.event, l.resource, l.payload, l.attempts + 1
    FROM leased AS l
    JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
   ORDER BY l.created_at;
END;
$$;

CREATE OR REPLACE FUNCTION public.record_vantage_sync_delivery(
  p_delivery_id   uuid,
  p_response_code integer,
  p_error         text DEFAULT NULL,
  p_duration_ms   integer DEFAULT NULL
)
RETURNS TABLE (status text, attempts integer, next_attempt_at timestamptz)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
DECLARE
  v_delivery public.vantage_sync_webhook_deliveries;
  v_now      timestamptz := clock_timestamp();
  v_ok       boolean := p_response_code BETWEEN 200 AND 299;
BEGIN
  SELECT * INTO v_delivery FROM public.vantage_sync_webhook_deliveries AS d
   WHERE d.delivery_id = p_delivery_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no webhook delivery %', p_delivery_id USING ERRCODE = 'PT404';
  END IF;
  IF v_delivery.status <> 'pending' THEN
    -- Already settled (a second sender's late report): keep the first outcome.
    RETURN QUERY SELECT v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
    RETURN;
  END IF;
  INSERT INTO public.vantage_sync_webhook_attempts (delivery_id, attempt, attempted_at, response_code, error, duration_ms)
  VALUES (p_delivery_id, v_delivery.attempts + 1, v_now, p_response_code, left(p_error, 500), p_duration_ms);
  UPDATE public.vantage_sync_webhook_deliveries AS d
     SET attempts = d.attempts + 1,
         last_response_code = p_response_code,
         last_error = left(p_error, 500),
         status = CASE WHEN v_ok THEN 'delivered'
                       WHEN d.attempts + 1 >= 10 THEN 'gave_up'
                       ELSE 'pending' END,
         delivered_at = CASE WHEN v_ok THEN v_now END,
         next_attempt_at = CASE WHEN v_ok OR d.attempts + 1 >= 10 THEN NULL
                                ELSE v_now + least(interval '1 hour',
                                                   interval '30 seconds' * power(2, d.attempts)) END
   WHERE d.delivery_id = p_delivery_id
  RETURNING d.status, d.attempts, d.next_attempt_at
    INTO v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
  RETURN QUERY SELECT v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
END;
$$;

COMMENT ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) IS
  'Leases up to p_limit due webhook deliveries (with URL and secret) to the caller for sending.';
COMMENT ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) IS
  'Records one delivery attempt: 2xx delivers; otherwise retried with backoff, given up after 10.';
REVOKE ALL ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) TO service_role;

-- Column privileges out, the table's SELECT back.
REVOKE SELECT (webhook_id, url, events, resources, description, active, created_at, kind)
  ON TABLE public.vantage_sync_webhooks FROM service_role;
GRANT SELECT ON TABLE public.vantage_sync_webhooks TO service_role;

COMMENT ON COLUMN public.vantage_sync_webhooks.secret IS NULL;
ALTER TABLE public.vantage_sync_webhooks DROP COLUMN IF EXISTS kind;
