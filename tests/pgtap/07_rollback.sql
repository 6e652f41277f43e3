-- 07_rollback: inside this transaction, run the migration's rollback file, check that the table
-- (with its indexes, triggers and policies) and all 5 functions are gone, then apply the forward
-- migration again and check it re-seeds the 7 resources as never_run with RLS, policies and
-- grants restored. The final ROLLBACK undoes all of it. Paths are relative to this file (\ir).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(20);

-- some sync history that the rollback must discard
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 100, 10, 90);
SELECT start_vantage_sync('probe_extra');
SELECT is((SELECT count(*)::int FROM vantage_sync_state), 8, 'before rollback: 8 rows incl. history');

\ir ../../migrations/20251105132840_vantage_sync_state_rollback.sql

SELECT hasnt_table('public', 'vantage_sync_state', 'rollback drops the table');
SELECT hasnt_function('public', 'start_vantage_sync', ARRAY['text'], 'rollback drops start_vantage_sync');
SELECT hasnt_function('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer'],
  'rollback drops complete_vantage_sync');
SELECT hasnt_function('public', 'fail_vantage_sync', ARRAY['text', 'jsonb'], 'rollback drops fail_vantage_sync');
SELECT hasnt_function('public', 'vantage_sync_state_touch_updated_at', '{}'::name[],
  'rollback drops vantage_sync_state_touch_updated_at');
SELECT hasnt_function('public', 'vantage_sync_state_compute_duration', '{}'::name[],
  'rollback drops vantage_sync_state_compute_duration');
SELECT is_empty(
  $$SELECT relname FROM pg_class
     WHERE relnamespace = 'public'::regnamespace
       AND (relname LIKE '%vantage%' OR relname IN ('idx_vantage_sync_status',
            'idx_vantage_sync_last_time', 'idx_vantage_sync_duration'))
    UNION ALL
    SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typname LIKE '%vantage%'
    UNION ALL
    SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE '%vantage%'$$,
  'no vantage relation, index, type or function left in public');
SELECT is_empty(
  $$SELECT policyname FROM pg_policies WHERE tablename = 'vantage_sync_state'$$,
  'no policies left');

\ir ../../migrations/20251105132840_vantage_sync_state.sql

SELECT has_table('public', 'vantage_sync_state', 're-apply creates the table');
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
  're-apply seeds the 7 resources as never_run, history gone');
SELECT has_function('public', 'start_vantage_sync', ARRAY['text'], 're-apply creates start_vantage_sync');
SELECT has_function('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer'],
  're-apply creates complete_vantage_sync');
SELECT has_function('public', 'fail_vantage_sync', ARRAY['text', 'jsonb'], 're-apply creates fail_vantage_sync');
SELECT triggers_are('public', 'vantage_sync_state',
  ARRAY['vantage_sync_state_updated_at', 'vantage_sync_state_duration'], 're-apply creates both triggers');
SELECT indexes_are('public', 'vantage_sync_state',
  ARRAY['vantage_sync_state_pkey', 'idx_vantage_sync_status', 'idx_vantage_sync_last_time',
        'idx_vantage_sync_duration'],
  're-apply creates the 4 indexes');
SELECT ok(
  (SELECT relrowsecurity FROM pg_class WHERE oid = 'public.vantage_sync_state'::regclass),
  're-apply enables RLS');
SELECT policies_are('public', 'vantage_sync_state',
  ARRAY['vantage_sync_state_select_all', 'vantage_sync_state_insert_service',
        'vantage_sync_state_update_service', 'vantage_sync_state_delete_service'],
  're-apply creates the 4 policies');
SELECT ok(
  NOT has_table_privilege('anon', 'public.vantage_sync_state', 'SELECT')
  AND NOT has_function_privilege('authenticated', 'public.start_vantage_sync(text)', 'EXECUTE')
  AND has_function_privilege('service_role', 'public.start_vantage_sync(text)', 'EXECUTE'),
  're-apply restores the grants');

SELECT lives_ok($$SELECT start_vantage_sync('accounts')$$, 'functions work after re-apply');

SELECT * FROM finish();
ROLLBACK;
