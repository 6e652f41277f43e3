-- PagerDuty: a receiver kind for the Events API v2 (issue 19), and subscription secrets that no
-- read returns.
--
-- A subscription now has a kind: `webhook` (every subscription so far: a signed POST of the
-- payload) or `pagerduty` (the edge POSTs a v2 alert event to url, by default
-- https://events.pagerduty.com/v2/enqueue). For `pagerduty`, secret holds the routing key (the
-- Integration Key of a service's "Events API v2" integration) and:
--   trigger   failed, stuck, repeated_failures, stale, late (those the subscription lists), with
--             dedup_key = the resource. The first one opens an episode; later ones go to the
--             same dedup_key, so PagerDuty appends them to the open incident.
--   resolve   the first success after an episode opened, whatever opened it (a failure, a stuck
--             run, stale or late), queued as `recovered` for that subscription alone, once; it
--             closes the episode. The next trigger opens a new episode (PagerDuty: a new incident).
-- Episodes live in vantage_sync_private.pagerduty_incidents (no API role sees them).
--
-- Refused with 22023 and a sentence (PostgREST answers 400), nothing written: a routing key
-- that is empty or not the 32 letters and digits of an Integration Key (the sentence never
-- quotes the key), `completed` or `slow` on a PagerDuty subscription (they are not incidents),
-- a PagerDuty subscription with no event that triggers, and a change of kind.
--
-- Order: PagerDuty must get a trigger before the resolve that ends it, also when the trigger is
-- being retried. claim_vantage_sync_deliveries hands out a PagerDuty delivery only when no
-- earlier delivery of the same subscription and resource is still pending, and now returns the
-- kind (dropped and created again: its result type changes).
--
-- Giving up: PagerDuty's 4xx other than 429 says the event is invalid (a bad routing key, a
-- field too long); retrying cannot make it valid. record_vantage_sync_delivery gives such a
-- delivery up at once (its reason is the attempt's error); 429, 5xx and no answer are retried
-- with the backoff of every receiver. The rule is the database's, where the kind is known, so
-- the function keeps its signature and every caller its grant.
--
-- Secrets: service_role could SELECT secret. Now it may read every column but secret (column
-- privileges); it still inserts, updates and deletes subscriptions. Only the edge's claim (a
-- definer function) hands secrets and routing keys out, to sign or to send.

ALTER TABLE public.vantage_sync_webhooks
  ADD COLUMN kind text NOT NULL DEFAULT 'webhook',
  ADD CONSTRAINT vantage_sync_webhooks_kind_check CHECK (kind IN ('webhook', 'pagerduty'));

COMMENT ON COLUMN public.vantage_sync_webhooks.kind IS
  'webhook (a signed POST of the payload) or pagerduty (an Events API v2 alert; secret is the routing key).';
COMMENT ON COLUMN public.vantage_sync_webhooks.secret IS
  'The signing secret (webhook) or the routing key (pagerduty). Never readable through the API.';

-- Open PagerDuty episodes: one row per subscription and resource while an incident is open.
CREATE TABLE vantage_sync_private.pagerduty_incidents (
  webhook_id uuid        NOT NULL REFERENCES public.vantage_sync_webhooks ON DELETE CASCADE,
  resource   text        NOT NULL,
  opened_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (resource, webhook_id)
);
ALTER TABLE vantage_sync_private.pagerduty_incidents ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON TABLE vantage_sync_private.pagerduty_incidents
  FROM PUBLIC, anon, authenticated, service_role;

COMMENT ON TABLE vantage_sync_private.pagerduty_incidents IS
  'Open PagerDuty episodes: a trigger was queued for (webhook_id, resource) and no resolve yet.';

-- The ordering rule of claim looks up a subscription's pending deliveries of one resource.
CREATE INDEX vantage_sync_webhook_deliveries_pending_idx
  ON public.vantage_sync_webhook_deliveries (webhook_id, resource, created_at) WHERE status = 'pending';

-- What a PagerDuty subscription may be. Runs before vantage_sync_webhooks_check (triggers of
-- one event fire in name order: "by_kind" < "check"), so the default URL is set before the URL
-- is checked, and before the secret's CHECK (CHECKs run after BEFORE triggers): a bad routing
-- key gets this sentence, not 23514.
CREATE FUNCTION vantage_sync_private.check_webhook_kind()
RETURNS trigger
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_triggers text[] := ARRAY['failed', 'stuck', 'repeated_failures', 'stale', 'late'];
  v_problem  text;
  v_refused  text[];
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.kind IS DISTINCT FROM OLD.kind THEN
    RAISE EXCEPTION 'a webhook subscription''s kind cannot change (it is %); create a new subscription', OLD.kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NEW.kind IS DISTINCT FROM 'pagerduty' THEN
    RETURN NEW;
  END IF;
  NEW.url := coalesce(NEW.url, 'https://events.pagerduty.com/v2/enqueue');
  -- The key's value is never part of the sentence: it is a credential.
  v_problem := CASE
    WHEN NEW.secret IS NULL OR NEW.secret = '' THEN 'this one is empty'
    WHEN NEW.secret !~ '^[A-Za-z0-9]*$' THEN 'this one has characters other than letters and digits'
    WHEN length(NEW.secret) <> 32 THEN format('this one has %s character%s', length(NEW.secret),
                                                CASE WHEN length(NEW.secret) = 1 THEN '' ELSE 's' END)
  END;
  IF v_problem IS NOT NULL THEN
    RAISE EXCEPTION 'a PagerDuty routing key (secret) must be the 32 letters and digits of an Events API v2 Integration Key; %', v_problem
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'In PagerDuty: the service''s Integrations tab, add an "Events API v2" integration, copy its Integration Key.';
  END IF;
  SELECT array_agg(DISTINCT e ORDER BY e) INTO v_refused
    FROM unnest(NEW.events) AS e WHERE e IN ('completed', 'slow');
  IF v_refused IS NOT NULL THEN
    RAISE EXCEPTION 'a PagerDuty subscription cannot take %: they are not incidents; its events are %',
        array_to_string(v_refused, ' or '), array_to_string(v_triggers, ', ')
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'Send completed and slow to a webhook subscription; PagerDuty resolves on recovery by itself.';
  END IF;
  IF NEW.events IS NOT NULL AND NOT NEW.events && v_triggers THEN
    RAISE EXCEPTION 'a PagerDuty subscription needs at least one event that triggers, from: %', array_to_string(v_triggers, ', ')
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER vantage_sync_webhooks_by_kind
  BEFORE INSERT OR UPDATE OF kind, url, secret, events ON public.vantage_sync_webhooks
  FOR EACH ROW EXECUTE FUNCTION vantage_sync_private.check_webhook_kind();

-- The payload of an event, as the health view has the resource now (the body of
-- 20261202100200's enqueue_webhook_event, now shared with the PagerDuty resolve).
CREATE FUNCTION vantage_sync_private.webhook_payload(p_event text, p_resource text, p_run_id uuid)
RETURNS jsonb
LANGUAGE sql
SET search_path = ''
AS $$
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
    FROM public.vantage_sync_health AS h
   WHERE h.resource = p_resource
$$;

-- As 20261202100200 made it, except for PagerDuty subscriptions: they get no `recovered` from
-- here (resolve_pagerduty_incidents sends it, to the subscriptions with an open episode), and a
-- trigger queued for one opens its episode when none is open.
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
                    AND (w.resources IS NULL OR p_resource = ANY (w.resources))
                    AND (w.kind = 'webhook' OR p_event <> 'recovered')) THEN
    RETURN 0;
  END IF;
  v_payload := vantage_sync_private.webhook_payload(p_event, p_resource, p_run_id);
  WITH queued AS (
    INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
    SELECT w.webhook_id, p_event, p_key, p_resource, p_run_id, v_payload
      FROM public.vantage_sync_webhooks AS w
     WHERE w.active AND p_event = ANY (w.events)
       AND (w.resources IS NULL OR p_resource = ANY (w.resources))
       AND (w.kind = 'webhook' OR p_event <> 'recovered')
    ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING
    RETURNING webhook_id
  ), opened AS (
    INSERT INTO vantage_sync_private.pagerduty_incidents (webhook_id, resource)
    SELECT q.webhook_id, p_resource
      FROM queued AS q JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
     WHERE w.kind = 'pagerduty'
    ON CONFLICT DO NOTHING
  )
  SELECT count(*) INTO v_count FROM queued;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

-- A success ends the open PagerDuty episodes of its resource: one `recovered` (a resolve) for
-- each subscription with one, keyed like the webhooks' recovered (once per transition). An
-- inactive subscription keeps its episode until it is active again and a success comes.
-- Invoker: its one caller, the definer enqueue_transition_events, runs it as the owner.
CREATE FUNCTION vantage_sync_private.resolve_pagerduty_incidents(
  p_resource text,
  p_run_id   uuid,
  p_key      text
)
RETURNS integer
LANGUAGE plpgsql
SECURITY INVOKER
SET search_path = ''
AS $$
DECLARE
  v_count integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM vantage_sync_private.pagerduty_incidents AS i WHERE i.resource = p_resource) THEN
    RETURN 0;
  END IF;
  WITH closed AS (
    DELETE FROM vantage_sync_private.pagerduty_incidents AS i
     USING public.vantage_sync_webhooks AS w
     WHERE i.resource = p_resource AND w.webhook_id = i.webhook_id AND w.active
    RETURNING i.webhook_id
  ), queued AS (
    INSERT INTO public.vantage_sync_webhook_deliveries (webhook_id, event, event_key, resource, run_id, payload)
    SELECT c.webhook_id, 'recovered', p_key, p_resource, p_run_id,
           vantage_sync_private.webhook_payload('recovered', p_resource, p_run_id)
      FROM closed AS c
    ON CONFLICT ON CONSTRAINT vantage_sync_webhook_deliveries_once DO NOTHING
    RETURNING 1
  )
  SELECT count(*) INTO v_count FROM queued;
  IF v_count > 0 THEN
    PERFORM set_config('response.headers', '[{"X-Vantage-Webhooks": "pending"}]', true);
  END IF;
  RETURN v_count;
END;
$$;

-- As 20261202100200 made it, and a success resolves the open PagerDuty episodes first (before
-- the look at the subscriptions: a subscription that no longer lists the resource still gets
-- the resolve of the incident it opened).
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
  IF NEW.last_sync_status = 'success' THEN
    PERFORM vantage_sync_private.resolve_pagerduty_incidents(NEW.resource, NEW.current_run_id, v_run || ':recovered');
  END IF;

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

-- As 20261125040000 made it, with the subscription's kind, and a PagerDuty delivery only when
-- no earlier delivery of its subscription and resource is pending (a trigger being retried
-- goes out before the resolve queued after it).
DROP FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text);

CREATE FUNCTION public.claim_vantage_sync_deliveries(
  p_limit    integer DEFAULT 20,
  p_lease    interval DEFAULT '2 minutes',
  p_resource text DEFAULT NULL
)
RETURNS TABLE (delivery_id uuid, url text, secret text, event text, resource text,
               payload jsonb, attempt integer, kind text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = ''
AS $$
BEGIN
  RETURN QUERY
  WITH due AS (
    SELECT d.delivery_id
      FROM public.vantage_sync_webhook_deliveries AS d
      JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
     WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
       AND (p_resource IS NULL OR d.resource = p_resource)
       AND (w.kind = 'webhook'
            OR NOT EXISTS (SELECT 1 FROM public.vantage_sync_webhook_deliveries AS e
                            WHERE e.webhook_id = d.webhook_id AND e.resource = d.resource
                              AND e.status = 'pending' AND e.created_at < d.created_at))
     ORDER BY d.next_attempt_at, d.created_at
     LIMIT greatest(1, least(p_limit, 100))
       FOR UPDATE OF d SKIP LOCKED
  ), leased AS (
    UPDATE public.vantage_sync_webhook_deliveries AS d
       SET next_attempt_at = clock_timestamp() + p_lease
      FROM due
     WHERE d.delivery_id = due.delivery_id
    RETURNING d.delivery_id, d.webhook_id, d.event, d.resource, d.payload, d.attempts, d.created_at
  )
  SELECT l.delivery_id, w.url, w.secret, l.event, l.resource, l.payload, l.attempts + 1, w.kind
    FROM leased AS l
    JOIN public.vantage_sync_webhooks AS w USING (webhook_id)
   ORDER BY l.created_at;
END;
$$;

-- As 20261125040000 made it, and a PagerDuty 4xx other than 429 gives the delivery up at once.
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
  v_final    boolean;
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
  -- PagerDuty: 400 (and any 4xx but 429) means the event is invalid; it stays invalid.
  v_final := v_delivery.attempts + 1 >= 10
    OR (p_response_code BETWEEN 400 AND 499 AND p_response_code <> 429
        AND EXISTS (SELECT 1 FROM public.vantage_sync_webhooks AS w
                     WHERE w.webhook_id = v_delivery.webhook_id AND w.kind = 'pagerduty'));
  INSERT INTO public.vantage_sync_webhook_attempts (delivery_id, attempt, attempted_at, response_code, error, duration_ms)
  VALUES (p_delivery_id, v_delivery.attempts + 1, v_now, p_response_code, left(p_error, 500), p_duration_ms);
  UPDATE public.vantage_sync_webhook_deliveries AS d
     SET attempts = d.attempts + 1,
         last_response_code = p_response_code,
         last_error = left(p_error, 500),
         status = CASE WHEN v_ok THEN 'delivered'
                       WHEN v_final THEN 'gave_up'
                       ELSE 'pending' END,
         delivered_at = CASE WHEN v_ok THEN v_now END,
         next_attempt_at = CASE WHEN v_ok OR v_final THEN NULL
                                ELSE v_now + least(interval '1 hour',
                                                   interval '30 seconds' * power(2, d.attempts)) END
   WHERE d.delivery_id = p_delivery_id
  RETURNING d.status, d.attempts, d.next_attempt_at
    INTO v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
  RETURN QUERY SELECT v_delivery.status, v_delivery.attempts, v_delivery.next_attempt_at;
END;
$$;

COMMENT ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) IS
  'Leases up to p_limit due webhook deliveries (with URL, secret and kind) to the caller for sending.';
COMMENT ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) IS
  'Records one delivery attempt: 2xx delivers; PagerDuty''s 4xx but 429 gives up; otherwise retried with backoff, given up after 10.';

-- Secrets and routing keys: written by service_role, read by no API role.
REVOKE SELECT ON TABLE public.vantage_sync_webhooks FROM service_role;
GRANT SELECT (webhook_id, url, events, resources, description, active, created_at, kind)
  ON TABLE public.vantage_sync_webhooks TO service_role;

REVOKE ALL ON FUNCTION vantage_sync_private.check_webhook_kind(),
  vantage_sync_private.webhook_payload(text, text, uuid),
  vantage_sync_private.resolve_pagerduty_incidents(text, uuid, text)
  FROM PUBLIC, anon, authenticated, service_role;
REVOKE ALL ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text)
  FROM PUBLIC, anon, authenticated;
GRANT EXECUTE ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) TO service_role;
