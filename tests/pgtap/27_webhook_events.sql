-- 27_webhook_events: every event, opt-in (20261202100200). events defaults to the alerting set
-- (failed, stuck, repeated_failures, recovered, stale), so a subscription that names none, like
-- every earlier one, gets no completed, slow or late. An unknown event, an empty list or NULL is
-- refused with a sentence (22023) and changes nothing. completed is queued on every success (with
-- recovered after it when failures came before), slow when a run ends after its slow_after, late
-- by the sweep once per missed run; payloads carry what those events are about.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SET LOCAL vantage_sync.webhooks_allow_private = 'on';
SELECT plan(22);

-- subscriptions ------------------------------------------------------------------------------------
SELECT col_has_default('public', 'vantage_sync_webhooks', 'events', 'events has a default');
INSERT INTO vantage_sync_webhooks (url, secret, description)
VALUES ('http://127.0.0.1:9/default', repeat('d', 32), 'default');
INSERT INTO vantage_sync_webhooks (url, events, secret, description)
VALUES ('http://127.0.0.1:9/every', '{completed,slow,late,recovered}', repeat('e', 32), 'every');
SELECT is((SELECT events FROM vantage_sync_webhooks WHERE description = 'default'),
  ARRAY['failed', 'stuck', 'repeated_failures', 'recovered', 'stale'],
  'a subscription that names no events gets the alerting set');

SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                   VALUES ('http://127.0.0.1:9/x', '{failed,exploded,finished}', repeat('s', 32))$$,
  '22023',
  'unknown webhook events: exploded, finished; the events are failed, stuck, repeated_failures, recovered, stale, completed, slow, late',
  'unknown events are refused with a sentence naming them and the known ones (22023: PostgREST answers 400)');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret) VALUES ('http://127.0.0.1:9/x', '{}', repeat('s', 32))$$,
  '22023', NULL, 'an empty event list is refused with a sentence');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret) VALUES ('http://127.0.0.1:9/x', NULL, repeat('s', 32))$$,
  '22023', NULL, 'NULL events are refused with the same sentence, not a NOT NULL violation');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret) VALUES ('http://127.0.0.1:9/x', '{failed,NULL}', repeat('s', 32))$$,
  '22023', NULL, 'a NULL among the events is refused');
SELECT is((SELECT count(*)::int FROM vantage_sync_webhooks), 2, 'the refused subscriptions wrote nothing');
SELECT throws_ok($$UPDATE vantage_sync_webhooks SET events = '{completed,complete}' WHERE description = 'every'$$,
  '22023', NULL, 'an update to an unknown event is refused');
SELECT is((SELECT events FROM vantage_sync_webhooks WHERE description = 'every'),
  ARRAY['completed', 'slow', 'late', 'recovered'], '... and the subscription keeps its events');

CREATE FUNCTION pg_temp.queued(p_description text, p_resource text) RETURNS text[] LANGUAGE sql AS $$
  SELECT coalesce(array_agg(d.event ORDER BY d.created_at, d.event), '{}')
    FROM public.vantage_sync_webhook_deliveries d JOIN public.vantage_sync_webhooks w USING (webhook_id)
   WHERE w.description = p_description AND d.resource = p_resource
$$;

-- completed and recovered ---------------------------------------------------------------------------
SELECT start_vantage_sync('accounts'), complete_vantage_sync('accounts', 150, 10, 140);
SELECT start_vantage_sync('accounts'), complete_vantage_sync('accounts', 20, 0, 20);
SELECT is(pg_temp.queued('every', 'accounts'), ARRAY['completed', 'completed'],
  'every success queues completed');
SELECT is(pg_temp.queued('default', 'accounts'), '{}'::text[],
  'a subscription with the default events gets no completed: no new traffic');
SELECT results_eq(
  $$SELECT (d.payload->>'records_synced')::int, (d.payload->>'sync_watermark')::timestamptz,
           (d.payload->>'duration_ms')::int
      FROM vantage_sync_webhook_deliveries d JOIN vantage_sync_webhooks w USING (webhook_id)
     WHERE w.description = 'every' AND d.resource = 'accounts' ORDER BY d.created_at DESC LIMIT 1$$,
  $$SELECT records_synced, sync_watermark, duration_ms FROM vantage_sync_state WHERE resource = 'accounts'$$,
  'the payload carries records_synced, sync_watermark and duration_ms');
SELECT start_vantage_sync('funds'), fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
SELECT start_vantage_sync('funds'), complete_vantage_sync('funds', 1, 1, 0);
SELECT is(pg_temp.queued('every', 'funds'), ARRAY['completed', 'recovered'],
  'the first success after a failure queues completed, then recovered');
SELECT is(pg_temp.queued('default', 'funds'), ARRAY['failed', 'recovered'],
  'the default subscription gets failed and recovered, as before');

-- slow ------------------------------------------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, slow_after) VALUES ('investors', interval '1 millisecond');
SELECT start_vantage_sync('investors');
SELECT pg_sleep(0.005);
SELECT complete_vantage_sync('investors', 1, 1, 0);
SELECT is(pg_temp.queued('every', 'investors'), ARRAY['completed', 'slow'],
  'a run that took longer than its slow_after queues slow after completed');
SELECT is((SELECT payload->>'slow_after' FROM vantage_sync_webhook_deliveries WHERE event = 'slow'),
  '00:00:00.001', 'the slow payload says the threshold');
SELECT start_vantage_sync('investors');
SELECT pg_sleep(0.005);
SELECT fail_vantage_sync('investors', '[{"code":"E","message":"m"}]');
SELECT is(cardinality(array_positions(pg_temp.queued('every', 'investors'), 'slow')), 2,
  'a slow failed run queues slow too (the rule of the slow alert), once per run');

-- late ------------------------------------------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace)
VALUES ('valuations', interval '1 hour', interval '10 minutes');
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '2 hours',
       started_at = now() - interval '2 hours 1 minute', completed_at = now() - interval '2 hours'
 WHERE resource = 'valuations';
CREATE TEMP TABLE t_sweep ON COMMIT DROP AS SELECT * FROM sweep_vantage_syncs();
SELECT ok('late' = ANY (pg_temp.queued('every', 'valuations')), 'the sweep queues late for a late resource');
SELECT ok((SELECT late_events FROM t_sweep) >= 1, 'and counts it in late_events');
SELECT is((SELECT late_events FROM sweep_vantage_syncs()), 0, 'a second sweep queues no late again for the same missed run');
SELECT is((SELECT payload->>'next_sync_due_at' FROM vantage_sync_webhook_deliveries WHERE event = 'late')::timestamptz,
  now() - interval '1 hour 1 minute', 'the late payload says when the run was due');
SELECT is(pg_temp.queued('default', 'valuations'), '{}'::text[], 'the default subscription gets no late');

SELECT * FROM finish();
ROLLBACK;
