-- 18_webhooks: the webhook outbox (20261125040000). Subscriptions are refused for a URL that is
-- not http(s), carries credentials, or points at a loopback, private or link-local address
-- (unless vantage_sync.webhooks_allow_private is on, as on the local stack), for an unknown
-- event and for a short secret. Transitions queue exactly one delivery per subscription and
-- event: failed, stuck (STUCK_TIMEOUT from the sweep), repeated_failures (the third in a row,
-- once), recovered (first success after failures); the sweep queues stale once per
-- last_sync_time. claim leases due rows (URL, secret, attempt) so they are not claimed twice;
-- record delivers on 2xx, backs off 30 s, 1 min … otherwise and gives up after 10 attempts.
-- Only service_role may touch any of it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(59);

-- objects and privileges -------------------------------------------------------------------------
SELECT has_table('public', t, format('%s exists', t))
  FROM unnest(ARRAY['vantage_sync_webhooks', 'vantage_sync_webhook_deliveries',
                    'vantage_sync_webhook_attempts']) AS t;
SELECT ok((SELECT bool_and(relrowsecurity) FROM pg_class
            WHERE oid IN ('public.vantage_sync_webhooks'::regclass, 'public.vantage_sync_webhook_deliveries'::regclass,
                          'public.vantage_sync_webhook_attempts'::regclass)),
  'RLS is on for all three');
SELECT is_empty(
  $$SELECT c.relname, r FROM pg_class c, unnest(ARRAY['anon', 'authenticated']) AS r,
           unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
     WHERE c.relname LIKE 'vantage_sync_webhook%' AND c.relkind = 'r'
       AND has_table_privilege(r, c.oid, p)$$,
  'anon and authenticated have no privilege on any webhook table (they hold the secrets)');
-- SELECT is per column since 20261202150000 (every column but secret): 28_pagerduty.sql.
SELECT table_privs_are('public', 'vantage_sync_webhooks', 'service_role',
  ARRAY['INSERT', 'UPDATE', 'DELETE'], 'service_role manages subscriptions');
SELECT table_privs_are('public', 'vantage_sync_webhook_deliveries', 'service_role', ARRAY['SELECT'],
  'service_role only reads deliveries (the functions write them)');
SELECT ok(NOT has_function_privilege(r, f, 'EXECUTE'), format('%s may not execute %s', r, f))
  FROM unnest(ARRAY['anon', 'authenticated']) AS r,
       unnest(ARRAY['public.claim_vantage_sync_deliveries(integer, interval, text)',
                    'public.record_vantage_sync_delivery(uuid, integer, text, integer)',
                    'public.sweep_vantage_syncs()']) AS f;
SELECT ok(has_function_privilege('service_role', 'public.claim_vantage_sync_deliveries(integer, interval, text)', 'EXECUTE'),
  'service_role may claim deliveries');

-- subscriptions: where and what --------------------------------------------------------------
SET LOCAL vantage_sync.webhooks_allow_private = 'off';
SELECT throws_ok(format($$INSERT INTO vantage_sync_webhooks (url, events, secret) VALUES (%L, '{failed}', repeat('s', 32))$$, u),
  '22023', NULL, format('refused: %s', u))
  FROM unnest(ARRAY['ftp://hooks.example.com/x', 'https://user:pw@hooks.example.com/x', 'https://localhost/x',
                    'http://127.0.0.1:9000/x', 'http://10.1.2.3/x', 'http://192.168.0.7/x', 'http://172.20.0.1/x',
                    'http://169.254.169.254/latest/meta-data', 'http://[::1]:8080/x', 'http://[fd00::1]/x',
                    'javascript:alert(1)', 'https://hooks.example.com/a b']) AS u;
SELECT lives_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                  VALUES ('https://hooks.example.com/vantage', '{failed}', repeat('s', 32))$$,
  'a public https URL is accepted');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                   VALUES ('https://hooks.example.com/x', '{exploded}', repeat('s', 32))$$,
  '22023', NULL, 'an unknown event is refused (a sentence since 20261202100200; 27_webhook_events.sql)');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                   VALUES ('https://hooks.example.com/x', '{failed}', 'short')$$,
  '23514', NULL, 'a secret under 24 characters is refused');
SET LOCAL vantage_sync.webhooks_allow_private = 'on';
SELECT lives_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                  VALUES ('http://127.0.0.1:9/all', '{failed,stuck,repeated_failures,recovered,stale}', repeat('t', 32))$$,
  'with webhooks_allow_private on (the local stack), a loopback receiver is accepted');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                   VALUES ('ftp://127.0.0.1/x', '{failed}', repeat('t', 32))$$,
  '22023', NULL, '... but still only http(s)');
DELETE FROM vantage_sync_webhooks WHERE url LIKE 'https://hooks.example.com/%';

-- transitions queue events -----------------------------------------------------------------
CREATE FUNCTION pg_temp.queued(p_resource text) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(event ORDER BY created_at, event), '{}')
    FROM public.vantage_sync_webhook_deliveries WHERE resource = p_resource
$$;

SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 10, 5, 5);
SELECT is(pg_temp.queued('accounts'), '{}'::text[], 'a success after a success queues nothing');

SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E1","message":"first"}]');
SELECT is(pg_temp.queued('funds'), ARRAY['failed'], 'a failure queues failed');
SELECT is((SELECT payload->>'event' || '/' || (payload->>'resource') || '/' || (payload->>'health')
             || '/' || (payload->'errors'->0->>'code') FROM vantage_sync_webhook_deliveries WHERE resource = 'funds'),
  'failed/funds/red/E1', 'its payload names the event, resource, health and errors');
SELECT is((SELECT run_id FROM vantage_sync_webhook_deliveries WHERE resource = 'funds'),
  (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'funds'), 'and the run');
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E2","message":"second"}]');
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E3","message":"third"}]');
SELECT is(pg_temp.queued('funds'), ARRAY['failed', 'failed', 'failed', 'repeated_failures'],
  'the third failure in a row also queues repeated_failures');
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E4","message":"fourth"}]');
SELECT is(cardinality(array_positions(pg_temp.queued('funds'), 'repeated_failures')), 1,
  'repeated_failures is queued once per streak');
SELECT start_vantage_sync('funds');
SELECT complete_vantage_sync('funds', 1, 1, 0);
SELECT is((pg_temp.queued('funds'))[6], 'recovered', 'the first success after failures queues recovered');
SELECT start_vantage_sync('funds');
SELECT complete_vantage_sync('funds', 1, 1, 0);
SELECT is(cardinality(pg_temp.queued('funds')), 6, 'a second success queues nothing');

-- the sweep: stuck and stale ------------------------------------------------------------------
SELECT start_vantage_sync('investors');
UPDATE vantage_sync_runs r SET started_at = r.started_at - interval '2 hours'
  FROM vantage_sync_state s WHERE s.resource = 'investors' AND r.run_id = s.current_run_id AND r.started_at = s.started_at;
UPDATE vantage_sync_state SET started_at = started_at - interval '2 hours' WHERE resource = 'investors';
UPDATE vantage_sync_state SET last_sync_status = 'success', last_sync_time = now() - interval '3 days',
       started_at = now() - interval '3 days 1 minute', completed_at = now() - interval '3 days'
 WHERE resource = 'valuations';
CREATE TEMP TABLE t_sweep ON COMMIT DROP AS SELECT * FROM sweep_vantage_syncs();
SELECT is((SELECT swept FROM t_sweep), 1, 'the sweep fails the stuck run');
SELECT is(pg_temp.queued('investors'), ARRAY['stuck'], 'a run failed as stuck queues stuck, not failed');
SELECT ok('stale' = ANY (pg_temp.queued('valuations')), 'a stale resource queues stale');
SELECT ok((SELECT stale_events FROM t_sweep) >= 1, 'the sweep counts the stale events it queued');
SELECT is((SELECT stale_events FROM sweep_vantage_syncs()), 0, 'a second sweep queues no stale event again');
SELECT ok((SELECT deliveries_due FROM t_sweep) >= 8, 'the sweep says how many deliveries are due');

-- exactly once per key ------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM vantage_sync_webhook_deliveries), (SELECT count(DISTINCT (webhook_id, event_key))::int FROM vantage_sync_webhook_deliveries),
  'no two deliveries share a subscription and event key');
SELECT is(vantage_sync_private.enqueue_webhook_event('failed', 'funds',
            (SELECT run_id FROM vantage_sync_webhook_deliveries WHERE resource = 'funds' ORDER BY created_at LIMIT 1),
            (SELECT event_key FROM vantage_sync_webhook_deliveries WHERE resource = 'funds' ORDER BY created_at LIMIT 1)),
  0, 'queuing a transition again queues nothing');
SELECT is(current_setting('response.headers', true), '[{"X-Vantage-Webhooks": "pending"}]',
  'queuing tells PostgREST''s caller, through a response header');

-- claim and record ------------------------------------------------------------------------------
SELECT is((SELECT array_agg(DISTINCT resource) FROM claim_vantage_sync_deliveries(100, '0 seconds', 'investors')),
  ARRAY['investors'], 'a claim for one resource returns only its deliveries (a 0 s lease leaves them due)');
CREATE TEMP TABLE t_claim ON COMMIT DROP AS SELECT * FROM claim_vantage_sync_deliveries(3);
SELECT is((SELECT count(*)::int FROM t_claim), 3, 'claim returns at most p_limit deliveries');
SELECT is((SELECT min(url) || ' ' || min(secret) || ' ' || min(attempt) FROM t_claim),
  'http://127.0.0.1:9/all ' || repeat('t', 32) || ' 1', 'with the URL, the secret and the attempt number');
SELECT is_empty($$SELECT c.delivery_id FROM claim_vantage_sync_deliveries(100) c JOIN t_claim USING (delivery_id)$$,
  'claimed deliveries are leased: a second claim does not return them');
SELECT is((SELECT status || ' ' || attempts FROM record_vantage_sync_delivery((SELECT min(delivery_id::text)::uuid FROM t_claim), 503, 'receiver down', 12)),
  'pending 1', 'a 503 leaves the delivery pending after 1 attempt');
SELECT ok((SELECT next_attempt_at BETWEEN clock_timestamp() + interval '29 seconds' AND clock_timestamp() + interval '31 seconds'
             FROM vantage_sync_webhook_deliveries WHERE delivery_id = (SELECT min(delivery_id::text)::uuid FROM t_claim)),
  'and retries it 30 s later');
SELECT is((SELECT response_code || ' ' || error FROM vantage_sync_webhook_attempts
            WHERE delivery_id = (SELECT min(delivery_id::text)::uuid FROM t_claim)), '503 receiver down',
  'the attempt is recorded with its response code and error');
SELECT is((SELECT status FROM record_vantage_sync_delivery((SELECT min(delivery_id::text)::uuid FROM t_claim), 204)),
  'delivered', 'a 2xx delivers');
SELECT is((SELECT status FROM record_vantage_sync_delivery((SELECT min(delivery_id::text)::uuid FROM t_claim), 500)),
  'delivered', 'a late report after delivery changes nothing');
SELECT is((SELECT status || ' ' || attempts FROM (
            SELECT (record_vantage_sync_delivery((SELECT max(delivery_id::text)::uuid FROM t_claim), 500)).*
              FROM generate_series(1, 10)) AS x ORDER BY attempts DESC LIMIT 1),
  'gave_up 10', 'ten failed attempts give up');
SELECT throws_ok($$SELECT * FROM record_vantage_sync_delivery(gen_random_uuid(), 200)$$, 'PT404', NULL,
  'an unknown delivery is PT404');

SELECT * FROM finish();
ROLLBACK;
