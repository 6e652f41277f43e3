-- 01_schema: table public.vantage_sync_state as the spec defines it (ETL-001):
-- columns (type, nullability, default), primary key, no foreign keys, triggers,
-- functions, and the seven seeded resources in their initial never_run state.
-- Later migrations extend the table compatibly: the spec's 12 columns must all still be there
-- unchanged (at least these), and the two additions (consecutive_failures, current_run_id) are
-- checked explicitly. complete/fail gained a trailing p_run_id uuid DEFAULT NULL, so the spec's
-- calls (and named-argument RPC calls) still resolve.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(69);

-- table and column set
SELECT has_table('public', 'vantage_sync_state', 'table exists');
SELECT set_has(
  $$SELECT attname::text FROM pg_attribute
     WHERE attrelid = 'public.vantage_sync_state'::regclass AND attnum > 0 AND NOT attisdropped$$,
  $$VALUES ('resource'), ('last_sync_time'), ('last_sync_status'), ('records_synced'),
           ('records_created'), ('records_updated'), ('errors'), ('started_at'), ('completed_at'),
           ('duration_ms'), ('created_at'), ('updated_at')$$,
  'at least the 12 spec columns');

-- additions of 20261124190200_vantage_sync_state_machine
SELECT has_column('public', 'vantage_sync_state', 'consecutive_failures', 'addition: consecutive_failures');
SELECT col_type_is('public', 'vantage_sync_state', 'consecutive_failures', 'integer', 'consecutive_failures is integer');
SELECT col_not_null('public', 'vantage_sync_state', 'consecutive_failures', 'consecutive_failures NOT NULL');
SELECT col_default_is('public', 'vantage_sync_state', 'consecutive_failures', 0, 'consecutive_failures defaults to 0');
SELECT has_column('public', 'vantage_sync_state', 'current_run_id', 'addition: current_run_id');
SELECT col_type_is('public', 'vantage_sync_state', 'current_run_id', 'uuid', 'current_run_id is uuid');
SELECT col_is_null('public', 'vantage_sync_state', 'current_run_id', 'current_run_id nullable');
SELECT col_hasnt_default('public', 'vantage_sync_state', 'current_run_id', 'current_run_id has no default');

-- types
SELECT col_type_is('public', 'vantage_sync_state', 'resource', 'text', 'resource is text');
SELECT col_type_is('public', 'vantage_sync_state', 'last_sync_time', 'timestamp with time zone', 'last_sync_time is timestamptz');
SELECT col_type_is('public', 'vantage_sync_state', 'last_sync_status', 'text', 'last_sync_status is text');
SELECT col_type_is('public', 'vantage_sync_state', 'records_synced', 'integer', 'records_synced is integer');
SELECT col_type_is('public', 'vantage_sync_state', 'records_created', 'integer', 'records_created is integer');
SELECT col_type_is('public', 'vantage_sync_state', 'records_updated', 'integer', 'records_updated is integer');
SELECT col_type_is('public', 'vantage_sync_state', 'errors', 'jsonb', 'errors is jsonb');
SELECT col_type_is('public', 'vantage_sync_state', 'started_at', 'timestamp with time zone', 'started_at is timestamptz');
SELECT col_type_is('public', 'vantage_sync_state', 'completed_at', 'timestamp with time zone', 'completed_at is timestamptz');
SELECT col_type_is('public', 'vantage_sync_state', 'duration_ms', 'integer', 'duration_ms is integer');
SELECT col_type_is('public', 'vantage_sync_state', 'created_at', 'timestamp with time zone', 'created_at is timestamptz');
SELECT col_type_is('public', 'vantage_sync_state', 'updated_at', 'timestamp with time zone', 'updated_at is timestamptz');

-- nullability
SELECT col_not_null('public', 'vantage_sync_state', 'resource', 'resource NOT NULL');
SELECT col_is_null('public', 'vantage_sync_state', 'last_sync_time', 'last_sync_time nullable');
SELECT col_not_null('public', 'vantage_sync_state', 'last_sync_status', 'last_sync_status NOT NULL');
SELECT col_not_null('public', 'vantage_sync_state', 'records_synced', 'records_synced NOT NULL');
SELECT col_not_null('public', 'vantage_sync_state', 'records_created', 'records_created NOT NULL');
SELECT col_not_null('public', 'vantage_sync_state', 'records_updated', 'records_updated NOT NULL');
SELECT col_not_null('public', 'vantage_sync_state', 'errors', 'errors NOT NULL');
SELECT col_is_null('public', 'vantage_sync_state', 'started_at', 'started_at nullable');
SELECT col_is_null('public', 'vantage_sync_state', 'completed_at', 'completed_at nullable');
SELECT col_is_null('public', 'vantage_sync_state', 'duration_ms', 'duration_ms nullable');
SELECT col_not_null('public', 'vantage_sync_state', 'created_at', 'created_at NOT NULL');
SELECT col_not_null('public', 'vantage_sync_state', 'updated_at', 'updated_at NOT NULL');

-- defaults
SELECT col_hasnt_default('public', 'vantage_sync_state', 'resource', 'resource has no default');
SELECT col_hasnt_default('public', 'vantage_sync_state', 'last_sync_time', 'last_sync_time has no default');
SELECT col_default_is('public', 'vantage_sync_state', 'last_sync_status', 'never_run'::text, 'last_sync_status defaults to never_run');
SELECT col_default_is('public', 'vantage_sync_state', 'records_synced', 0, 'records_synced defaults to 0');
SELECT col_default_is('public', 'vantage_sync_state', 'records_created', 0, 'records_created defaults to 0');
SELECT col_default_is('public', 'vantage_sync_state', 'records_updated', 0, 'records_updated defaults to 0');
SELECT col_default_is('public', 'vantage_sync_state', 'errors', '[]'::jsonb, 'errors defaults to []');
SELECT col_hasnt_default('public', 'vantage_sync_state', 'started_at', 'started_at has no default');
SELECT col_hasnt_default('public', 'vantage_sync_state', 'completed_at', 'completed_at has no default');
SELECT col_hasnt_default('public', 'vantage_sync_state', 'duration_ms', 'duration_ms has no default');
SELECT col_default_is('public', 'vantage_sync_state', 'created_at', 'now()'::text, 'created_at defaults to now()');
SELECT col_default_is('public', 'vantage_sync_state', 'updated_at', 'now()'::text, 'updated_at defaults to now()');

-- keys
SELECT has_pk('public', 'vantage_sync_state', 'has a primary key');
SELECT col_is_pk('public', 'vantage_sync_state', ARRAY['resource']::name[], 'primary key is (resource)');
SELECT is(
  (SELECT conname::text FROM pg_constraint
    WHERE conrelid = 'public.vantage_sync_state'::regclass AND contype = 'p'),
  'vantage_sync_state_pkey',
  'primary key is named vantage_sync_state_pkey');
SELECT hasnt_fk('public', 'vantage_sync_state', 'no foreign keys (decoupled from domain tables)');

-- triggers and their functions
SELECT has_trigger('public', 'vantage_sync_state', 'vantage_sync_state_updated_at', 'has the updated_at trigger');
SELECT has_trigger('public', 'vantage_sync_state', 'vantage_sync_state_duration', 'has the duration trigger');
SELECT is_empty(
  $$SELECT tgname FROM pg_trigger
     WHERE tgrelid = 'public.vantage_sync_state'::regclass AND NOT tgisinternal
       AND tgname NOT IN ('vantage_sync_state_updated_at', 'vantage_sync_state_duration',
                          'vantage_sync_state_fail_run_on_delete', 'vantage_sync_state_webhook_events',
                          'vantage_sync_state_retry_policy', 'vantage_sync_state_sync_watermark',
                          'vantage_sync_state_sync_watermark_on_insert')$$,
  'no trigger but the spec''s two, the state machine''s delete guard, the webhook outbox''s, the retry policy''s and the watermark''s two');
SELECT trigger_is('public', 'vantage_sync_state', 'vantage_sync_state_updated_at',
  'public', 'vantage_sync_state_touch_updated_at', 'updated_at trigger calls touch function');
SELECT trigger_is('public', 'vantage_sync_state', 'vantage_sync_state_duration',
  'public', 'vantage_sync_state_compute_duration', 'duration trigger calls compute function');
SELECT is(
  (SELECT pg_get_triggerdef(oid) FROM pg_trigger
    WHERE tgrelid = 'public.vantage_sync_state'::regclass AND tgname = 'vantage_sync_state_updated_at'),
  'CREATE TRIGGER vantage_sync_state_updated_at BEFORE UPDATE ON public.vantage_sync_state FOR EACH ROW EXECUTE FUNCTION vantage_sync_state_touch_updated_at()',
  'updated_at trigger: BEFORE UPDATE, per row');
SELECT is(
  (SELECT pg_get_triggerdef(oid) FROM pg_trigger
    WHERE tgrelid = 'public.vantage_sync_state'::regclass AND tgname = 'vantage_sync_state_duration'),
  'CREATE TRIGGER vantage_sync_state_duration BEFORE INSERT OR UPDATE OF started_at, completed_at ON public.vantage_sync_state FOR EACH ROW EXECUTE FUNCTION vantage_sync_state_compute_duration()',
  'duration trigger: BEFORE INSERT OR UPDATE OF timestamps, per row');

-- functions
SELECT has_function('public', 'start_vantage_sync', ARRAY['text'], 'start_vantage_sync(text) exists');
SELECT has_function('public', 'complete_vantage_sync', ARRAY['text', 'integer', 'integer', 'integer', 'uuid'],
  'complete_vantage_sync(text,int,int,int,uuid) exists');
SELECT has_function('public', 'fail_vantage_sync', ARRAY['text', 'jsonb', 'uuid'], 'fail_vantage_sync(text,jsonb,uuid) exists');
SELECT has_function('public', 'vantage_sync_state_touch_updated_at', '{}'::name[], 'touch_updated_at() exists');
SELECT has_function('public', 'vantage_sync_state_compute_duration', '{}'::name[], 'compute_duration() exists');
SELECT results_eq(
  $$SELECT proname::text COLLATE "default", pg_get_function_arguments(oid)
      FROM pg_proc
     WHERE pronamespace = 'public'::regnamespace
       AND proname IN ('start_vantage_sync', 'complete_vantage_sync', 'fail_vantage_sync')
     ORDER BY proname$$,
  $$VALUES
      ('complete_vantage_sync', 'p_resource text, p_records_synced integer, p_records_created integer, p_records_updated integer, p_run_id uuid DEFAULT NULL::uuid'),
      ('fail_vantage_sync', 'p_resource text, p_errors jsonb, p_run_id uuid DEFAULT NULL::uuid'),
      ('start_vantage_sync', 'p_resource text')$$,
  'state functions: one overload each, spec parameters first, only a trailing optional p_run_id');
SELECT is(
  to_regprocedure('public.complete_vantage_sync(text, integer, integer, integer)'), NULL,
  'no leftover 4-argument complete overload (the spec call is not ambiguous)');
SELECT is(
  to_regprocedure('public.fail_vantage_sync(text, jsonb)'), NULL,
  'no leftover 2-argument fail overload (the spec call is not ambiguous)');

-- seeded resources
SELECT results_eq(
  $$SELECT resource, last_sync_status FROM public.vantage_sync_state ORDER BY resource$$,
  $$VALUES ('accounts', 'never_run'), ('cashflows', 'never_run'), ('commitments', 'never_run'),
           ('funds', 'never_run'), ('investments', 'never_run'), ('investors', 'never_run'),
           ('valuations', 'never_run')$$,
  'the 7 seeded resources, all never_run');
SELECT is_empty(
  $$SELECT resource FROM public.vantage_sync_state
     WHERE last_sync_time IS NOT NULL OR started_at IS NOT NULL OR completed_at IS NOT NULL
        OR duration_ms IS NOT NULL OR records_synced <> 0 OR records_created <> 0
        OR records_updated <> 0 OR errors <> '[]'::jsonb
        OR consecutive_failures <> 0 OR current_run_id IS NOT NULL$$,
  'seeded rows carry no sync data');
SELECT is_empty(
  $$SELECT run_id FROM public.vantage_sync_runs$$,
  'seeded rows have no run history');
SELECT is_empty(
  $$SELECT resource FROM public.vantage_sync_state
     WHERE created_at > now() OR updated_at > now() OR updated_at < created_at$$,
  'seeded rows have created_at <= updated_at <= now()');

SELECT * FROM finish();
ROLLBACK;
