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

COMMENT ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) IS
  'Records one delivery attempt: 2xx delivers; otherwise retried with backoff, given up after 10.';

REVOKE ALL ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) TO service_role;

COMMENT ON FUNCTION public.record_vantage_sync_delivery(uuid, integer, text, integer) IS
  'Records one delivery attempt: 2xx delivers; PagerDuty''s 4xx but 429 gives up; otherwise retried with backoff, given up after 10.';

