-- 28_pagerduty: the PagerDuty receiver kind (20261202150000). A subscription's kind is webhook or
-- pagerduty; a PagerDuty one gets the Events API v2 URL by default and refuses, with 22023 and a
-- sentence that never quotes it, a routing key that is empty or not 32 letters and digits, the
-- events that are not incidents, and a change of kind. Episodes: a trigger opens one, repeats go
-- to it, the first success after it (a failure or stale alike) queues exactly one recovered (the
-- resolve) and closes it; plain webhooks keep their semantics. claim hands out a PagerDuty
-- delivery only after the earlier ones of its subscription and resource, with the kind; record
-- gives up at once on PagerDuty's 4xx but 429. service_role reads every column but secret.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SET LOCAL vantage_sync.webhooks_allow_private = 'on';
SELECT plan(38);

-- subscriptions ------------------------------------------------------------------------------------
SELECT has_column('public', 'vantage_sync_webhooks', 'kind', 'subscriptions have a kind');
SELECT col_default_is('public', 'vantage_sync_webhooks', 'kind', 'webhook', 'the kind is webhook unless said');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, secret, kind) VALUES ('http://127.0.0.1:9/x', repeat('s', 32), 'slack')$$,
  '23514', NULL, 'an unknown kind is refused (vantage_sync_webhooks_kind_check)');

SELECT throws_ok(format($$INSERT INTO vantage_sync_webhooks (secret, kind) VALUES (%L, 'pagerduty')$$, k),
  '22023',
  'a PagerDuty routing key (secret) must be the 32 letters and digits of an Events API v2 Integration Key; ' || why,
  format('a routing key that %s is refused with a sentence that does not quote it', why))
  FROM (VALUES ('', 'this one is empty'),
               ('shortkey1234', 'this one has 12 characters'),
               ('abcdefghijklmnop-rstuvwxyz012345', 'this one has characters other than letters and digits'),
               (repeat('k', 33), 'this one has 33 characters')) AS t(k, why);
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (secret, kind) VALUES (NULL, 'pagerduty')$$,
  '22023', NULL, 'a NULL routing key is refused as empty, with the same sentence');

INSERT INTO vantage_sync_webhooks (secret, kind, description)
VALUES ('abcdefghijklmnopqrstuvwxyz012345', 'pagerduty', 'default url');
SELECT is((SELECT url FROM vantage_sync_webhooks WHERE description = 'default url'),
  'https://events.pagerduty.com/v2/enqueue', 'a PagerDuty subscription without a URL gets the Events API v2 endpoint');
SELECT is((SELECT events FROM vantage_sync_webhooks WHERE description = 'default url'),
  ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale'], '... and the alerting set');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (events, secret, kind) VALUES ('{failed,completed,slow}', repeat('K', 32), 'pagerduty')$$,
  '22023',
  'a PagerDuty subscription cannot take completed or slow: they are not incidents; its events are failed, stuck, repeated_failures, stale, late',
  'completed and slow are refused for PagerDuty');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (events, secret, kind) VALUES ('{recovered}', repeat('K', 32), 'pagerduty')$$,
  '22023', NULL, 'a PagerDuty subscription with nothing that triggers is refused');
SELECT throws_ok($$UPDATE vantage_sync_webhooks SET kind = 'webhook' WHERE description = 'default url'$$,
  '22023', NULL, 'the kind cannot change');
SELECT throws_ok($$UPDATE vantage_sync_webhooks SET secret = 'x' WHERE description = 'default url'$$,
  '22023', NULL, 'an update to a bad routing key is refused too');
DELETE FROM vantage_sync_webhooks WHERE description = 'default url';

-- episodes -----------------------------------------------------------------------------------------
INSERT INTO vantage_sync_webhooks (url, events, secret, kind, description) VALUES
  ('http://127.0.0.1:9/pd', '{failed,stuck,repeated_failures,stale,late}', 'abcdefghijklmnopqrstuvwxyz012345',
   'pagerduty', 'pd'),
  ('http://127.0.0.1:9/hook', DEFAULT, repeat('w', 32), DEFAULT, 'hook');

CREATE FUNCTION pg_temp.queued(p_description text, p_resource text) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(d.event ORDER BY d.created_at, d.event), '{}')
    FROM public.vantage_sync_webhook_deliveries d JOIN public.vantage_sync_webhooks w USING (webhook_id)
   WHERE w.description = p_description AND d.resource = p_resource
$$;
CREATE FUNCTION pg_temp.open_episodes(p_resource text) RETURNS int LANGUAGE sql AS $$
  SELECT count(*)::int FROM vantage_sync_private.pagerduty_incidents WHERE resource = p_resource
$$;

SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E1","message":"first"}]');
SELECT is(pg_temp.open_episodes('funds'), 1, 'a failure opens an episode');
SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E2","message":"second"}]');
SELECT is(pg_temp.open_episodes('funds'), 1, 'a second failure goes to the same episode');
SELECT start_vantage_sync('funds'), complete_vantage_sync('funds', 1, 1, 0);
SELECT is(pg_temp.queued('pd', 'funds'), ARRAY['failed', 'failed', 'recovered'],
  'failing, failing, success: two triggers and exactly one resolve');
SELECT is(pg_temp.open_episodes('funds'), 0, 'the success closes the episode');
SELECT is(pg_temp.queued('hook', 'funds'), ARRAY['failed', 'failed', 'recovered'],
  'the webhook subscription gets what it always got');
SELECT start_vantage_sync('funds'), complete_vantage_sync('funds', 1, 1, 0);
SELECT is(cardinality(array_positions(pg_temp.queued('pd', 'funds'), 'recovered')), 1,
  'a success with no open episode resolves nothing');

-- stale: the sweep triggers; the next success resolves, though no run failed
SELECT start_vantage_sync('investors'), complete_vantage_sync('investors', 1, 1, 0);
UPDATE vantage_sync_state SET last_sync_time = now() - interval '3 days' WHERE resource = 'investors';
SELECT ok((SELECT stale_events >= 2 FROM sweep_vantage_syncs()), 'the sweep queues stale');
SELECT is(pg_temp.open_episodes('investors'), 1, 'stale opens an episode');
SELECT start_vantage_sync('investors'), complete_vantage_sync('investors', 1, 1, 0);
SELECT is(pg_temp.queued('pd', 'investors'), ARRAY['stale', 'recovered'],
  'the success after stale resolves it (consecutive_failures was 0)');
SELECT is(pg_temp.queued('hook', 'investors'), ARRAY['stale'],
  'the webhook subscription gets no recovered without failures, as before');
SELECT is((SELECT payload->>'health' FROM vantage_sync_webhook_deliveries d JOIN vantage_sync_webhooks w USING (webhook_id)
            WHERE w.description = 'pd' AND d.resource = 'investors' AND d.event = 'recovered'),
  'green', 'the resolve carries the payload of the success');

-- claim: in order per subscription and resource ------------------------------------------------------
CREATE TEMP TABLE t_claim ON COMMIT DROP AS
  SELECT c.*, w.description FROM claim_vantage_sync_deliveries(100, '0 seconds', 'funds') c
  JOIN vantage_sync_webhook_deliveries d USING (delivery_id) JOIN vantage_sync_webhooks w USING (webhook_id);
SELECT results_eq($$SELECT event, kind, secret FROM t_claim WHERE description = 'pd'$$,
  $$VALUES ('failed'::text, 'pagerduty'::text, 'abcdefghijklmnopqrstuvwxyz012345'::text)$$,
  'PagerDuty: only the oldest pending delivery of the resource is claimed, with its kind and routing key');
SELECT is((SELECT count(*)::int FROM t_claim WHERE description = 'hook' AND kind = 'webhook'), 3,
  'webhooks: every due delivery, as before');
SELECT is((SELECT status FROM record_vantage_sync_delivery((SELECT delivery_id FROM t_claim WHERE description = 'pd'), 202)),
  'delivered', 'PagerDuty''s 202 delivers');
SELECT is((SELECT array_agg(c.event) FROM claim_vantage_sync_deliveries(100, '0 seconds', 'funds') c
             JOIN vantage_sync_webhook_deliveries d USING (delivery_id) JOIN vantage_sync_webhooks w USING (webhook_id)
            WHERE w.description = 'pd'),
  ARRAY['failed'], '... then the next one is claimed, the resolve still waits');

-- record: PagerDuty's 4xx but 429 is final ---------------------------------------------------------------
CREATE FUNCTION pg_temp.pd_delivery(p_event text, p_resource text) RETURNS uuid LANGUAGE sql AS $$
  SELECT d.delivery_id FROM vantage_sync_webhook_deliveries d JOIN vantage_sync_webhooks w USING (webhook_id)
   WHERE w.description = 'pd' AND d.resource = p_resource AND d.event = p_event AND d.status = 'pending'
   ORDER BY d.created_at LIMIT 1
$$;
SELECT is((SELECT status || ' ' || attempts FROM record_vantage_sync_delivery(pg_temp.pd_delivery('failed', 'funds'), 429, 'PagerDuty answered 429', 5)),
  'pending 1', 'PagerDuty''s 429 is retried');
SELECT ok((SELECT next_attempt_at BETWEEN clock_timestamp() + interval '29 seconds' AND clock_timestamp() + interval '31 seconds'
             FROM vantage_sync_webhook_deliveries WHERE delivery_id = pg_temp.pd_delivery('failed', 'funds')),
  '... after 30 s, the backoff of every receiver');
SELECT is((SELECT status || ' ' || attempts FROM record_vantage_sync_delivery(pg_temp.pd_delivery('failed', 'funds'), 400,
             'PagerDuty answered 400: Event object is invalid', 5)),
  'gave_up 2', 'PagerDuty''s 400 gives up at once');
SELECT is((SELECT last_error FROM vantage_sync_webhook_deliveries d JOIN vantage_sync_webhooks w USING (webhook_id)
            WHERE w.description = 'pd' AND d.resource = 'funds' AND d.status = 'gave_up'),
  'PagerDuty answered 400: Event object is invalid', '... with the reason recorded');
SELECT is((SELECT status FROM record_vantage_sync_delivery(
             (SELECT delivery_id FROM t_claim WHERE description = 'hook' ORDER BY delivery_id LIMIT 1), 400, 'bad', 5)),
  'pending', 'a webhook''s 400 is retried, as before');

-- privileges: the secret is written, never read ---------------------------------------------------------
SET LOCAL ROLE service_role;
SELECT throws_ok($$SELECT secret FROM public.vantage_sync_webhooks$$, '42501', NULL,
  'service_role cannot read secret');
SELECT lives_ok($$SELECT webhook_id, url, events, resources, description, active, created_at, kind FROM public.vantage_sync_webhooks$$,
  'service_role reads every other column');
SELECT lives_ok($$INSERT INTO public.vantage_sync_webhooks (events, secret, kind, description)
                  VALUES ('{failed}', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345', 'pagerduty', 'by service_role')$$,
  'service_role still creates subscriptions');
SELECT lives_ok($$UPDATE public.vantage_sync_webhooks SET secret = 'ZYXWVUTSRQPONMLKJIHGFEDCBA012345', active = false
                   WHERE description = 'by service_role'$$,
  '... and replaces a secret');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
