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

COMMENT ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) IS
  'Leases up to p_limit due webhook deliveries (with URL, secret and kind) to the caller for sending.';

REVOKE ALL ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text)
  FROM PUBLIC, anon, authenticated;

GRANT EXECUTE ON FUNCTION public.claim_vantage_sync_deliveries(integer, interval, text) TO service_role;

