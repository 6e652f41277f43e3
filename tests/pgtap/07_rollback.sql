-- 07_rollback: inside this transaction, run every rollback file newest first (progress, the widget's changes function, metrics, PagerDuty, run retention, webhook events,
-- late, sync watermark, retry status wording, retry policy fixes, retry policy, webhooks, anon on the pure rules, health view read-only, one-call start, health view, state
-- machine, run history, schedules, then the spec's ETL-001 migration), check along the way that
-- each step leaves the previous level intact, and at the end that everything the migrations
-- created is gone: tables vantage_sync_state/_runs/_schedules, view vantage_sync_health, schema
-- vantage_sync_private with its partitions, every function, policy and index. Then the spec's
-- migration alone, and its one-file rollback on that database; then apply every
-- forward migration again in order and check that the 7 resources are re-seeded as never_run and
-- the view, functions, partitions, RLS and grants are back; syncs that are running (ETL-001 style)
-- when the state machine migration lands get a run id and a history row. The final ROLLBACK undoes all of it.
-- Paths are relative to this file (\ir).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(106);

-- some sync history, a schedule and a running sync that the rollback must discard
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 100, 10, 90);
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
SELECT start_vantage_sync('probe_extra');
SELECT progress_vantage_sync_run('probe_extra', (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'probe_extra'), 7);
SELECT start_vantage_sync('cashflows');
SELECT complete_vantage_sync('cashflows', NULL, NULL, NULL);
INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('investments', '{accounts}');
SELECT is((SELECT count(*)::int FROM vantage_sync_state), 8, 'before rollback: 8 rows incl. history');
SELECT is((SELECT count(*)::int FROM vantage_sync_runs), 4, 'before rollback: 4 runs in the history');

-- every function the migrations created (as the test stack applied them), by signature
CREATE TEMP TABLE t_funcs ON COMMIT DROP AS
  SELECT format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)) AS sig
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE p.proname LIKE '%vantage%' OR n.nspname = 'vantage_sync_private';
SELECT set_has(
  $$SELECT sig FROM t_funcs$$,
  $$VALUES ('public.start_vantage_sync(text)'),
           ('public.complete_vantage_sync(text, integer, integer, integer, uuid)'),
           ('public.fail_vantage_sync(text, jsonb, uuid)'),
           ('public.abort_vantage_sync(text, text, text, uuid)'),
           ('public.sweep_stuck_vantage_syncs()'),
           ('public.create_vantage_sync_run_partitions(integer)'),
           ('public.vantage_sync_effective_schedule(text)'),
           ('public.vantage_sync_schedules_reject_cycles()'),
           ('public.vantage_sync_state_touch_updated_at()'),
           ('public.vantage_sync_state_compute_duration()'),
           ('vantage_sync_private.fail_current_run(text, jsonb, timestamp with time zone)'),
           ('vantage_sync_private.require_valid_errors(jsonb)'),
           ('vantage_sync_private.run_detail(vantage_sync_state)'),
           ('vantage_sync_private.lock_running(text, uuid, text)')$$,
  'snapshot of the migrations'' functions taken (the known ones at least)');

-- newest first -----------------------------------------------------------------------------------
\ir ../../migrations/20261208090000_vantage_sync_progress_rollback.sql

SELECT hasnt_function('public'::name, 'progress_vantage_sync_run'::name,
  '090000 rollback drops progress_vantage_sync_run');
SELECT ok(
  NOT EXISTS (SELECT 1 FROM information_schema.columns
               WHERE table_schema = 'public'
                 AND table_name IN ('vantage_sync_state', 'vantage_sync_runs', 'vantage_sync_health')
                 AND column_name IN ('last_heartbeat_at', 'records_so_far', 'counts_reported')),
  '090000 rollback drops the heartbeat and counts_reported columns from the tables and the view');
SELECT is(
  (SELECT string_agg(coalesce(records_synced::text, 'null'), ',') FROM vantage_sync_runs
    WHERE resource = 'cashflows'),
  '0', '090000 rollback: a run completed without counts gets 0 again (the column is NOT NULL once more)');
SELECT col_not_null('public', 'vantage_sync_runs', 'records_synced', '090000 rollback: runs.records_synced NOT NULL again');
SELECT is(vantage_sync_health_rank_of('running', NULL, now() - interval '31 minutes', interval '24 hours',
            interval '30 minutes', now(), NULL, NULL, NULL), 1,
  '090000 rollback: the rule functions have their 20261202100100 signatures again');

\ir ../../migrations/20261207190000_vantage_sync_health_changes_rollback.sql

SELECT hasnt_function('public'::name, 'vantage_sync_health_changes'::name,
  '190000 rollback drops vantage_sync_health_changes');

\ir ../../migrations/20261202150100_vantage_sync_metrics_rollback.sql

SELECT hasnt_function('public'::name, 'vantage_sync_metrics'::name, '150100 rollback drops vantage_sync_metrics');

INSERT INTO vantage_sync_webhooks (url, events, secret, kind) VALUES
  ('https://hooks.example.com/pagerduty', '{failed}', repeat('k', 32), 'pagerduty');
\ir ../../migrations/20261202150000_vantage_sync_pagerduty_rollback.sql

SELECT hasnt_column('public', 'vantage_sync_webhooks', 'kind', '150000 rollback drops the kind column');
SELECT is((SELECT count(*)::int FROM vantage_sync_webhooks WHERE url = 'https://hooks.example.com/pagerduty'), 0,
  '150000 rollback deletes PagerDuty subscriptions (that schema would sign and send their routing key)');
SELECT table_privs_are('public', 'vantage_sync_webhooks', 'service_role',
  ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'], '150000 rollback: service_role reads the whole table again');

\ir ../../migrations/20261202124500_vantage_sync_drop_old_runs_rollback.sql

SELECT hasnt_function('public'::name, 'vantage_sync_drop_old_runs'::name, '124500 rollback drops vantage_sync_drop_old_runs');

INSERT INTO vantage_sync_webhooks (url, events, secret) VALUES
  ('https://hooks.example.com/new-only', '{completed,late}', repeat('s', 32)),
  ('https://hooks.example.com/mixed', '{failed,slow,stale}', repeat('s', 32));
\ir ../../migrations/20261202100200_vantage_sync_webhook_events_rollback.sql

SELECT results_eq(
  $$SELECT url, events FROM vantage_sync_webhooks WHERE url LIKE 'https://hooks.example.com/%' ORDER BY url$$,
  $$VALUES ('https://hooks.example.com/mixed'::text, '{failed,stale}'::text[])$$,
  '100200 rollback strips completed, slow and late (a subscription to nothing else is deleted)');
SELECT throws_ok($$INSERT INTO vantage_sync_webhooks (url, events, secret)
                   VALUES ('https://hooks.example.com/x', '{completed}', repeat('s', 32))$$,
  '23514', NULL, '100200 rollback: completed is unknown again (the CHECK as 040000 made it)');
DELETE FROM vantage_sync_webhooks;

\ir ../../migrations/20261202100100_vantage_sync_late_rollback.sql

SELECT hasnt_column('public', 'vantage_sync_schedules', 'late_grace', '100100 rollback drops late_grace');
SELECT has_function('public', 'vantage_sync_health_rank_of',
  ARRAY['text', 'timestamp with time zone', 'timestamp with time zone', 'interval', 'interval', 'timestamp with time zone'],
  '100100 rollback restores the rank rule''s earlier signature');
SELECT ok(has_function_privilege('anon', 'public.vantage_sync_alerts_of(text, timestamptz, timestamptz, timestamptz, integer, integer, interval, interval, interval, interval, timestamptz)', 'EXECUTE'),
  '100100 rollback restores the alert rule with its grant to anon');
SELECT has_trigger('public', 'vantage_sync_health', 'vantage_sync_health_read_only',
  '100100 rollback keeps the health view read-only (020000''s trigger is back on the recreated view)');

\ir ../../migrations/20261202100000_vantage_sync_watermark_rollback.sql

SELECT hasnt_column('public', 'vantage_sync_state', 'sync_watermark', '100000 rollback drops sync_watermark');
SELECT is((SELECT proargnames FROM pg_proc WHERE oid = 'public.start_vantage_sync_run(text)'::regprocedure),
  ARRAY['p_resource', 'run_id', 'started_at']::text[],
  '100000 rollback restores start_vantage_sync_run as 220000 made it');

\ir ../../migrations/20261125070000_vantage_sync_retry_status_wording_rollback.sql

SELECT has_trigger('public', 'vantage_sync_health', 'vantage_sync_health_read_only',
  '070000 rollback keeps the health view read-only');

\ir ../../migrations/20261125060000_vantage_sync_retry_policy_fixes_rollback.sql

SELECT hasnt_trigger('public', 'vantage_sync_schedules', 'vantage_sync_schedules_release_retries',
  '060000 rollback drops the trigger that ends a wait with its policy');
SELECT throws_ok($$SELECT vantage_sync_private.retry_backoff(12, '1 day', 10, '7 days')$$, '22008', NULL,
  '060000 rollback restores 050000''s backoff (its overflow included)');

\ir ../../migrations/20261125050000_vantage_sync_retry_policy_rollback.sql

SELECT hasnt_column('public', 'vantage_sync_state', 'next_attempt_at', '050000 rollback drops next_attempt_at');
SELECT has_trigger('public', 'vantage_sync_health', 'vantage_sync_health_read_only',
  '050000 rollback keeps the health view read-only (020000''s trigger is back on the recreated view)');

\ir ../../migrations/20261125040000_vantage_sync_webhooks_rollback.sql

SELECT hasnt_table('public', 'vantage_sync_webhooks', '040000 rollback drops the webhook subscriptions');
SELECT is_empty(
  $$SELECT tgname FROM pg_trigger WHERE tgname = 'vantage_sync_state_webhook_events'$$,
  '040000 rollback drops the webhook outbox trigger');

\ir ../../migrations/20261125020100_vantage_sync_pure_rules_for_anon_rollback.sql

SELECT ok(NOT has_function_privilege('anon', 'public.vantage_sync_health_name(integer)', 'EXECUTE'),
  '020100 rollback takes EXECUTE on the pure rules back from anon');

\ir ../../migrations/20261125020000_vantage_sync_health_read_only_rollback.sql

SELECT hasnt_function('public'::name, 'vantage_sync_health_refuse_write'::name,
  '020000 rollback drops the health view''s read-only trigger function');

\ir ../../migrations/20261124220000_vantage_sync_start_run_rollback.sql

SELECT hasnt_function('public'::name, 'start_vantage_sync_run'::name, '220000 rollback drops start_vantage_sync_run');

\ir ../../migrations/20261124190300_vantage_sync_health_rollback.sql

SELECT hasnt_view('public', 'vantage_sync_health', '190300 rollback drops the health view');
SELECT is_empty(
  $$SELECT proname FROM pg_proc
     WHERE proname LIKE 'vantage_sync_health%' OR proname = 'vantage_sync_alerts_of'$$,
  '190300 rollback drops the health and alert rule functions');

\ir ../../migrations/20261124190200_vantage_sync_state_machine_rollback.sql

SELECT hasnt_function('public'::name, 'abort_vantage_sync'::name, '190200 rollback drops abort_vantage_sync');
SELECT hasnt_function('public'::name, 'sweep_stuck_vantage_syncs'::name, '190200 rollback drops sweep_stuck_vantage_syncs');
SELECT is_empty(
  $$SELECT proname FROM pg_proc WHERE pronamespace = 'vantage_sync_private'::regnamespace$$,
  '190200 rollback drops the private helper functions');
SELECT hasnt_column('public', 'vantage_sync_state', 'consecutive_failures', '190200 rollback drops consecutive_failures');
SELECT hasnt_column('public', 'vantage_sync_state', 'current_run_id', '190200 rollback drops current_run_id');
SELECT results_eq(
  $$SELECT proname::text COLLATE "default", pg_get_function_identity_arguments(oid),
           prorettype::regtype::text, prosecdef
      FROM pg_proc
     WHERE pronamespace = 'public'::regnamespace
       AND proname IN ('start_vantage_sync', 'complete_vantage_sync', 'fail_vantage_sync')
     ORDER BY proname$$,
  $$VALUES
      ('complete_vantage_sync', 'p_resource text, p_records_synced integer, p_records_created integer, p_records_updated integer', 'void', false),
      ('fail_vantage_sync', 'p_resource text, p_errors jsonb', 'void', false),
      ('start_vantage_sync', 'p_resource text', 'void', false)$$,
  '190200 rollback restores the ETL-001 functions (void, invoker)');
SELECT ok(
  has_function_privilege('service_role', 'public.complete_vantage_sync(text,integer,integer,integer)', 'EXECUTE')
  AND NOT has_function_privilege('authenticated', 'public.complete_vantage_sync(text,integer,integer,integer)', 'EXECUTE')
  AND NOT has_function_privilege('anon', 'public.start_vantage_sync(text)', 'EXECUTE'),
  '190200 rollback restores the ETL-001 function grants');
SELECT lives_ok(
  $$SELECT start_vantage_sync('accounts'); SELECT complete_vantage_sync('accounts', 1, 1, 0)$$,
  'the ETL-001 functions work at this level');

\ir ../../migrations/20261124190100_vantage_sync_runs_rollback.sql

SELECT hasnt_table('public', 'vantage_sync_runs', '190100 rollback drops vantage_sync_runs');
SELECT hasnt_schema('vantage_sync_private', '190100 rollback drops schema vantage_sync_private');
SELECT hasnt_function('public'::name, 'create_vantage_sync_run_partitions'::name,
  '190100 rollback drops create_vantage_sync_run_partitions');

\ir ../../migrations/20261124190000_vantage_sync_schedules_rollback.sql

SELECT hasnt_table('public', 'vantage_sync_schedules', '190000 rollback drops vantage_sync_schedules');
SELECT is_empty(
  $$SELECT proname FROM pg_proc WHERE proname LIKE '%schedule%' AND proname LIKE '%vantage%'$$,
  '190000 rollback drops the schedule functions (effective, default, cycle check)');
SELECT has_table('public', 'vantage_sync_state', 'the spec table survives the later rollbacks');

\ir ../../migrations/20251105132840_vantage_sync_state_rollback.sql

-- everything is gone --------------------------------------------------------------------------
SELECT hasnt_table('public', 'vantage_sync_state', 'vantage_sync_state is gone');
SELECT hasnt_table('public', 'vantage_sync_runs', 'vantage_sync_runs is gone');
SELECT hasnt_table('public', 'vantage_sync_schedules', 'vantage_sync_schedules is gone');
SELECT hasnt_view('public', 'vantage_sync_health', 'vantage_sync_health is gone');
SELECT hasnt_schema('vantage_sync_private', 'schema vantage_sync_private is gone');
SELECT hasnt_function('public'::name, 'start_vantage_sync'::name, 'start_vantage_sync is gone');
SELECT hasnt_function('public'::name, 'complete_vantage_sync'::name, 'complete_vantage_sync is gone (every overload)');
SELECT hasnt_function('public'::name, 'fail_vantage_sync'::name, 'fail_vantage_sync is gone (every overload)');
SELECT hasnt_function('public'::name, 'vantage_sync_state_touch_updated_at'::name, 'vantage_sync_state_touch_updated_at is gone');
SELECT hasnt_function('public'::name, 'vantage_sync_state_compute_duration'::name, 'vantage_sync_state_compute_duration is gone');
SELECT is_empty(
  $$SELECT sig FROM t_funcs
    INTERSECT
    SELECT format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace$$,
  'none of the functions the migrations created is left');
SELECT is_empty(
  $$SELECT p.oid::regprocedure::text FROM pg_proc p
     WHERE p.proname IN ('fail_current_run', 'require_valid_errors', 'run_detail', 'lock_running')$$,
  'no private helper left in any schema');
SELECT is_empty(
  $$SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relname LIKE '%vantage%'
    UNION ALL
    SELECT typname FROM pg_type WHERE typname LIKE '%vantage%'
    UNION ALL
    SELECT proname FROM pg_proc WHERE proname LIKE '%vantage%'
    UNION ALL
    SELECT nspname FROM pg_namespace WHERE nspname LIKE '%vantage%'$$,
  'no vantage relation, partition, index, type, function or schema left anywhere');
SELECT is_empty(
  $$SELECT policyname FROM pg_policies WHERE tablename LIKE '%vantage%'$$,
  'no policies left');

-- forward again, in order ----------------------------------------------------------------------
\ir ../../migrations/20251105132840_vantage_sync_state.sql

-- the spec's own one-file rollback (`psql -f ..._rollback.sql`) on a database that has only the
-- spec's migration: it removes everything that migration made; then the migration again
\ir ../../migrations/20251105132840_vantage_sync_state_rollback.sql
SELECT is_empty(
  $$SELECT c.relname::text FROM pg_class c WHERE c.relname LIKE '%vantage%'
    UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE '%vantage%'
    UNION ALL SELECT policyname FROM pg_policies WHERE tablename LIKE '%vantage%'$$,
  'the spec''s one-file rollback works on a database with only the spec''s migration');
\ir ../../migrations/20251105132840_vantage_sync_state.sql

SELECT has_table('public', 'vantage_sync_state', 're-apply creates vantage_sync_state');
SELECT results_eq(
  $$SELECT resource, last_sync_status, last_sync_time, records_synced, started_at
      FROM vantage_sync_state ORDER BY resource$$,
  $$VALUES ('accounts'::text, 'never_run'::text, NULL::timestamptz, 0, NULL::timestamptz),
           ('cashflows',   'never_run', NULL, 0, NULL),
           ('commitments', 'never_run', NULL, 0, NULL),
           ('funds',       'never_run', NULL, 0, NULL),
           ('investments', 'never_run', NULL, 0, NULL),
           ('investors',   'never_run', NULL, 0, NULL),
           ('valuations',  'never_run', NULL, 0, NULL)$$,
  're-apply of ETL-001 seeds the 7 resources as never_run, history gone');

-- syncs running while the state machine migration lands: one started by the ETL-001 function,
-- one written directly without started_at. The migration must give both a run id and a history row.
SELECT start_vantage_sync('probe_upgrade');
INSERT INTO vantage_sync_state (resource, last_sync_status) VALUES ('probe_upgrade_nostart', 'running');

\ir ../../migrations/20261124190000_vantage_sync_schedules.sql
\ir ../../migrations/20261124190100_vantage_sync_runs.sql
\ir ../../migrations/20261124190200_vantage_sync_state_machine.sql
\ir ../../migrations/20261124190300_vantage_sync_health.sql
\ir ../../migrations/20261124220000_vantage_sync_start_run.sql
\ir ../../migrations/20261125020000_vantage_sync_health_read_only.sql
\ir ../../migrations/20261125020100_vantage_sync_pure_rules_for_anon.sql
\ir ../../migrations/20261125040000_vantage_sync_webhooks.sql
\ir ../../migrations/20261125050000_vantage_sync_retry_policy.sql
\ir ../../migrations/20261125060000_vantage_sync_retry_policy_fixes.sql
\ir ../../migrations/20261125070000_vantage_sync_retry_status_wording.sql
\ir ../../migrations/20261202100000_vantage_sync_watermark.sql
\ir ../../migrations/20261202100100_vantage_sync_late.sql
\ir ../../migrations/20261202100200_vantage_sync_webhook_events.sql
\ir ../../migrations/20261202124500_vantage_sync_drop_old_runs.sql
\ir ../../migrations/20261202150000_vantage_sync_pagerduty.sql
\ir ../../migrations/20261202150100_vantage_sync_metrics.sql
\ir ../../migrations/20261207190000_vantage_sync_health_changes.sql
\ir ../../migrations/20261208090000_vantage_sync_progress.sql

SELECT has_function('public', 'vantage_sync_health_changes', ARRAY['timestamp with time zone'],
  're-apply creates vantage_sync_health_changes');
SELECT has_function('public', 'progress_vantage_sync_run', ARRAY['text', 'uuid', 'bigint'],
  're-apply creates progress_vantage_sync_run');
SELECT has_function('public', 'start_vantage_sync_run', ARRAY['text'], 're-apply creates start_vantage_sync_run');
SELECT has_function('public', 'vantage_sync_metrics', ARRAY[]::text[], 're-apply creates vantage_sync_metrics');
SELECT has_function('public', 'vantage_sync_drop_old_runs', ARRAY['integer'], 're-apply creates vantage_sync_drop_old_runs');

SELECT has_table('public', 'vantage_sync_runs', 're-apply creates vantage_sync_runs');
SELECT has_table('public', 'vantage_sync_schedules', 're-apply creates vantage_sync_schedules');
SELECT has_view('public', 'vantage_sync_health', 're-apply creates vantage_sync_health');
SELECT has_schema('vantage_sync_private', 're-apply creates vantage_sync_private');
SELECT results_eq(
  $$SELECT resource, last_sync_status, last_sync_time, records_synced, started_at,
           consecutive_failures, current_run_id
      FROM vantage_sync_state WHERE resource NOT LIKE 'probe%' ORDER BY resource$$,
  $$VALUES ('accounts'::text, 'never_run'::text, NULL::timestamptz, 0, NULL::timestamptz, 0, NULL::uuid),
           ('cashflows',   'never_run', NULL, 0, NULL, 0, NULL),
           ('commitments', 'never_run', NULL, 0, NULL, 0, NULL),
           ('funds',       'never_run', NULL, 0, NULL, 0, NULL),
           ('investments', 'never_run', NULL, 0, NULL, 0, NULL),
           ('investors',   'never_run', NULL, 0, NULL, 0, NULL),
           ('valuations',  'never_run', NULL, 0, NULL, 0, NULL)$$,
  're-apply seeds the 7 resources as never_run, history gone');
SELECT results_eq(
  $$SELECT s.resource, s.last_sync_status, r.status, r.started_at = s.started_at,
           s.started_at <= clock_timestamp(), s.consecutive_failures
      FROM vantage_sync_state s JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource LIKE 'probe%' ORDER BY s.resource$$,
  $$VALUES ('probe_upgrade'::text, 'running'::text, 'running'::text, true, true, 0),
           ('probe_upgrade_nostart', 'running', 'running', true, true, 0)$$,
  'syncs running during the upgrade got a run id, a started_at and a running history row');
SELECT is(
  (SELECT count(*)::int FROM vantage_sync_runs), 2,
  're-apply: the run history holds only the two upgraded runs');
SELECT lives_ok(
  $$SELECT complete_vantage_sync('probe_upgrade', 1, 1, 0, (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'probe_upgrade'))$$,
  'an upgraded run can be completed with its new run id');
SELECT results_eq(
  $$SELECT s.last_sync_status, r.status FROM vantage_sync_state s
      JOIN vantage_sync_runs r ON r.run_id = s.current_run_id WHERE s.resource = 'probe_upgrade'$$,
  $$VALUES ('success'::text, 'success'::text)$$,
  'completing it updates state and history');
SELECT is_empty($$SELECT resource FROM vantage_sync_schedules$$, 're-apply: no schedules');
SELECT results_eq(
  $$SELECT resource, health, alerts FROM vantage_sync_health WHERE resource NOT LIKE 'probe%' ORDER BY sort_key$$,
  $$VALUES ('accounts'::text, 'yellow'::text, '{}'::text[]), ('cashflows', 'yellow', '{}'),
           ('commitments', 'yellow', '{}'), ('funds', 'yellow', '{}'), ('investments', 'yellow', '{}'),
           ('investors', 'yellow', '{}'), ('valuations', 'yellow', '{}')$$,
  're-apply: the view shows the 7 never-run resources');
SELECT ok(
  (SELECT reloptions @> ARRAY['security_invoker=true'] FROM pg_class
    WHERE oid = 'public.vantage_sync_health'::regclass),
  're-apply: the view is security_invoker');

-- functions
SELECT function_returns('public', 'start_vantage_sync', ARRAY['text'], 'uuid', 're-apply: start returns uuid');
SELECT is_definer('public', 'start_vantage_sync', ARRAY['text'], 're-apply: start is SECURITY DEFINER');
SELECT has_function('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer', 'uuid'],
  're-apply creates complete_vantage_sync(text,int,int,int,uuid)');
SELECT has_function('public', 'fail_vantage_sync', ARRAY['text', 'jsonb', 'uuid'],
  're-apply creates fail_vantage_sync(text,jsonb,uuid)');
SELECT is(
  (SELECT count(*)::int FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
      AND proname IN ('complete_vantage_sync', 'fail_vantage_sync', 'start_vantage_sync')),
  3, 're-apply: one overload each of start/complete/fail');
SELECT has_function('public', 'abort_vantage_sync', ARRAY['text', 'text', 'text', 'uuid'], 're-apply creates abort_vantage_sync');
SELECT has_function('public', 'sweep_stuck_vantage_syncs', '{}'::name[], 're-apply creates sweep_stuck_vantage_syncs');
SELECT has_function('public', 'create_vantage_sync_run_partitions', ARRAY['integer'],
  're-apply creates create_vantage_sync_run_partitions');
SELECT has_function('public', 'vantage_sync_effective_schedule', ARRAY['text'],
  're-apply creates vantage_sync_effective_schedule');
SELECT set_eq(
  $$SELECT format('%I.%I(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE p.proname LIKE '%vantage%' OR n.nspname = 'vantage_sync_private'$$,
  $$SELECT sig FROM t_funcs$$,
  're-apply creates exactly the functions the stack''s migrations created');

-- table machinery
SELECT has_trigger('public', 'vantage_sync_state', 'vantage_sync_state_updated_at', 're-apply: updated_at trigger');
SELECT has_trigger('public', 'vantage_sync_state', 'vantage_sync_state_duration', 're-apply: duration trigger');
SELECT set_has(
  $$SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'vantage_sync_state'$$,
  $$VALUES ('vantage_sync_state_pkey'), ('idx_vantage_sync_status'), ('idx_vantage_sync_last_time'),
           ('idx_vantage_sync_duration')$$,
  're-apply creates the 4 spec indexes');
SELECT has_check('public', 'vantage_sync_state', 're-apply: CHECKs on vantage_sync_state');
SELECT is(
  (SELECT count(*)::int FROM pg_constraint
    WHERE conrelid = 'public.vantage_sync_state'::regclass AND contype = 'c'
      AND conname IN ('vantage_sync_state_last_sync_status_check', 'vantage_sync_state_records_synced_check',
                      'vantage_sync_state_records_created_check', 'vantage_sync_state_records_updated_check',
                      'vantage_sync_state_duration_ms_check', 'valid_sync_timerange', 'running_incomplete',
                      'errors_is_array', 'vantage_sync_state_consecutive_failures_check',
                      'vantage_sync_state_running_run_check')),
  10, 're-apply: the 8 spec CHECKs and the 2 additions');
SELECT is(
  (SELECT count(*)::int FROM pg_class c
     JOIN pg_inherits i ON i.inhrelid = c.oid
    WHERE i.inhparent = 'public.vantage_sync_runs'::regclass
      AND c.relnamespace = 'vantage_sync_private'::regnamespace
      AND c.relname IN (
        SELECT 'vantage_sync_runs_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC')
                                              + make_interval(months => m), 'YYYY_MM')
          FROM generate_series(0, 3) AS m
        UNION ALL SELECT 'vantage_sync_runs_default')),
  5, 're-apply: partitions for this month, 3 ahead, and the default');

-- RLS, policies, grants
SELECT ok(
  (SELECT bool_and(relrowsecurity) FROM pg_class
    WHERE oid IN ('public.vantage_sync_state'::regclass, 'public.vantage_sync_runs'::regclass,
                  'public.vantage_sync_schedules'::regclass)),
  're-apply enables RLS on the three tables');
SELECT set_has(
  $$SELECT policyname::text FROM pg_policies WHERE schemaname = 'public' AND tablename = 'vantage_sync_state'$$,
  $$VALUES ('vantage_sync_state_select_all'), ('vantage_sync_state_insert_service'),
           ('vantage_sync_state_update_service'), ('vantage_sync_state_delete_service')$$,
  're-apply creates the 4 spec policies');
SELECT policies_are('public', 'vantage_sync_runs', ARRAY['vantage_sync_runs_select_all'],
  're-apply creates the runs policy');
SELECT ok(
  NOT has_table_privilege('anon', 'public.vantage_sync_state', 'SELECT')
  AND has_table_privilege('authenticated', 'public.vantage_sync_state', 'SELECT')
  AND NOT has_table_privilege('authenticated', 'public.vantage_sync_state', 'UPDATE')
  AND NOT has_function_privilege('authenticated', 'public.start_vantage_sync(text)', 'EXECUTE')
  AND has_function_privilege('service_role', 'public.start_vantage_sync(text)', 'EXECUTE'),
  're-apply restores the spec grants');
SELECT ok(
  NOT has_table_privilege('anon', 'public.vantage_sync_health', 'SELECT')
  AND has_table_privilege('authenticated', 'public.vantage_sync_health', 'SELECT')
  AND has_table_privilege('authenticated', 'public.vantage_sync_runs', 'SELECT')
  AND NOT has_table_privilege('service_role', 'public.vantage_sync_runs', 'INSERT')
  AND NOT has_function_privilege('authenticated', 'public.abort_vantage_sync(text,text,text,uuid)', 'EXECUTE')
  AND has_function_privilege('service_role', 'public.sweep_stuck_vantage_syncs()', 'EXECUTE')
  AND NOT has_schema_privilege('authenticated', 'vantage_sync_private', 'USAGE'),
  're-apply restores the grants of the later migrations');

-- and it all works again
DELETE FROM vantage_sync_state WHERE resource LIKE 'probe%';
CREATE TEMP TABLE t_run ON COMMIT DROP AS SELECT start_vantage_sync('accounts') AS run_id;
SELECT results_eq(
  $$SELECT s.last_sync_status, r.status FROM vantage_sync_state s
      JOIN vantage_sync_runs r ON r.run_id = s.current_run_id
     WHERE s.resource = 'accounts' AND s.current_run_id = (SELECT run_id FROM t_run)$$,
  $$VALUES ('running'::text, 'running'::text)$$,
  'start works after re-apply and writes the history');
SELECT lives_ok(
  $$SELECT complete_vantage_sync('accounts', 1, 1, 0, (SELECT run_id FROM t_run))$$,
  'complete with the run id works after re-apply');
SELECT is(
  (SELECT health FROM vantage_sync_health WHERE resource = 'accounts'), 'green',
  'the view follows the state after re-apply');

SELECT * FROM finish();
ROLLBACK;
