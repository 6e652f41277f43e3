-- 02_constraints: every CHECK of vantage_sync_state by name (status, the three record
-- counts, duration_ms, valid_sync_timerange, running_incomplete, errors_is_array for object,
-- scalar and string), NOT NULL and primary-key violations, and boundary values that must pass.
-- User triggers are switched off (session_replication_role = replica, this transaction only)
-- so that the CHECK itself, not the duration trigger, decides.
-- Later migrations add two CHECKs (consecutive_failures >= 0; a running row has a current_run_id
-- and a started_at): the spec's 8 must all still be there, the additions are checked explicitly,
-- and every direct write of status 'running' carries a run id and a started_at, so that only the
-- constraint under test can reject it.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SET LOCAL session_replication_role = replica;
SELECT plan(37);

SELECT set_has(
  $$SELECT conname::text FROM pg_constraint
     WHERE conrelid = 'public.vantage_sync_state'::regclass AND contype = 'c'$$,
  $$VALUES ('vantage_sync_state_last_sync_status_check'), ('vantage_sync_state_records_synced_check'),
           ('vantage_sync_state_records_created_check'), ('vantage_sync_state_records_updated_check'),
           ('vantage_sync_state_duration_ms_check'), ('valid_sync_timerange'), ('running_incomplete'),
           ('errors_is_array')$$,
  'at least the 8 named spec CHECK constraints');
SELECT results_eq(
  $$SELECT conname::text COLLATE "default", pg_get_constraintdef(oid) FROM pg_constraint
     WHERE conrelid = 'public.vantage_sync_state'::regclass AND contype = 'c'
       AND conname IN ('vantage_sync_state_consecutive_failures_check', 'vantage_sync_state_running_run_check')
     ORDER BY conname$$,
  $$VALUES ('vantage_sync_state_consecutive_failures_check'::text, 'CHECK ((consecutive_failures >= 0))'::text),
           ('vantage_sync_state_running_run_check',
            'CHECK (((last_sync_status <> ''running''::text) OR ((current_run_id IS NOT NULL) AND (started_at IS NOT NULL))))')$$,
  'additions: consecutive_failures and running_run CHECKs');

-- status
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET last_sync_status = 'done' WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_last_sync_status_check"',
  'status outside the 4 values rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET last_sync_status = 'SUCCESS' WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_last_sync_status_check"',
  'status is case-sensitive');
SELECT lives_ok(
  $$INSERT INTO public.vantage_sync_state (resource, last_sync_status, current_run_id, started_at) VALUES
      ('probe_s1', 'success', NULL, NULL), ('probe_s2', 'failed', NULL, NULL),
      ('probe_s3', 'running', gen_random_uuid(), now()), ('probe_s4', 'never_run', NULL, NULL)$$,
  'each of the 4 statuses accepted');

-- record counts
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET records_synced = -1 WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_records_synced_check"',
  'negative records_synced rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET records_created = -1 WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_records_created_check"',
  'negative records_created rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET records_updated = -1 WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_records_updated_check"',
  'negative records_updated rejected');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET records_synced = 0, records_created = 0, records_updated = 0 WHERE resource = 'cashflows'$$,
  'zero record counts accepted');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET records_synced = 2147483647, records_created = 1, records_updated = 2147483646
     WHERE resource = 'cashflows'$$,
  'large record counts accepted');

-- duration_ms
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET duration_ms = -1 WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_duration_ms_check"',
  'negative duration_ms rejected (update)');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource, duration_ms) VALUES ('probe_d', -1)$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_duration_ms_check"',
  'negative duration_ms rejected (insert)');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state SET duration_ms = 0 WHERE resource = 'cashflows'$$,
  'duration_ms = 0 accepted');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state SET duration_ms = NULL WHERE resource = 'cashflows'$$,
  'duration_ms NULL accepted');

-- valid_sync_timerange
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource, last_sync_status, started_at, completed_at)
    VALUES ('probe_t', 'failed', now(), now() - interval '1 hour')$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "valid_sync_timerange"',
  'completed_at before started_at rejected (insert)');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'success', started_at = now(), completed_at = now() - interval '1 ms'
     WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "valid_sync_timerange"',
  'completed_at before started_at rejected (update)');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'success', started_at = now(), completed_at = now()
     WHERE resource = 'cashflows'$$,
  'completed_at = started_at accepted');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'failed', started_at = NULL, completed_at = now()
     WHERE resource = 'cashflows'$$,
  'completed_at without started_at accepted');

-- running_incomplete
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'running', started_at = now() - interval '1 minute', completed_at = now(),
           current_run_id = gen_random_uuid()
     WHERE resource = 'commitments'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "running_incomplete"',
  'running with completed_at rejected');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource, last_sync_status, completed_at, current_run_id, started_at)
    VALUES ('probe_r', 'running', now(), gen_random_uuid(), now())$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "running_incomplete"',
  'running with completed_at rejected (insert)');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'running', started_at = now(), completed_at = NULL,
           current_run_id = gen_random_uuid()
     WHERE resource = 'commitments'$$,
  'running without completed_at accepted');

-- vantage_sync_state_running_run_check (addition): a running row names its run and start
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'running', started_at = now(), completed_at = NULL, current_run_id = NULL
     WHERE resource = 'valuations'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_running_run_check"',
  'running without current_run_id rejected');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource, last_sync_status, current_run_id)
    VALUES ('probe_rr', 'running', gen_random_uuid())$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_running_run_check"',
  'running without started_at rejected');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET last_sync_status = 'failed', completed_at = now(), current_run_id = NULL
     WHERE resource = 'commitments'$$,
  'a finished row may have no current_run_id');

-- vantage_sync_state_consecutive_failures_check (addition)
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET consecutive_failures = -1 WHERE resource = 'cashflows'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "vantage_sync_state_consecutive_failures_check"',
  'negative consecutive_failures rejected');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state SET consecutive_failures = 0 WHERE resource = 'cashflows'$$,
  'consecutive_failures = 0 accepted');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET consecutive_failures = NULL WHERE resource = 'cashflows'$$,
  '23502', NULL, 'NULL consecutive_failures rejected');

-- errors_is_array
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET errors = '{"code": "X"}'::jsonb WHERE resource = 'investors'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "errors_is_array"',
  'errors as object rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET errors = '42'::jsonb WHERE resource = 'investors'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "errors_is_array"',
  'errors as scalar number rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET errors = '"x"'::jsonb WHERE resource = 'investors'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "errors_is_array"',
  'errors as scalar string rejected');
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET errors = 'null'::jsonb WHERE resource = 'investors'$$,
  '23514',
  'new row for relation "vantage_sync_state" violates check constraint "errors_is_array"',
  'errors as JSON null rejected');
SELECT lives_ok(
  $$UPDATE public.vantage_sync_state
       SET errors = '[{"code": "API_TIMEOUT", "message": "t"}, {"code": "PARSE_ERROR"}]'::jsonb
     WHERE resource = 'investors'$$,
  'errors as array of objects accepted');

-- NOT NULL and primary key
SELECT throws_ok(
  $$UPDATE public.vantage_sync_state SET errors = NULL WHERE resource = 'investors'$$,
  '23502', NULL, 'SQL NULL errors rejected (not_null_violation)');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource) VALUES (NULL)$$,
  '23502', NULL, 'NULL resource rejected');
SELECT throws_ok(
  $$INSERT INTO public.vantage_sync_state (resource) VALUES ('accounts')$$,
  '23505',
  'duplicate key value violates unique constraint "vantage_sync_state_pkey"',
  'duplicate resource rejected by vantage_sync_state_pkey');

-- a row with every column set to valid values passes all CHECKs
SELECT lives_ok(
  $$INSERT INTO public.vantage_sync_state
      (resource, last_sync_time, last_sync_status, records_synced, records_created, records_updated,
       errors, started_at, completed_at, duration_ms, consecutive_failures, current_run_id)
    VALUES ('probe_ok', now(), 'success', 150, 10, 140, '[]', now() - interval '1 minute', now(), 60000,
            0, gen_random_uuid())$$,
  'a fully valid row is accepted');

SELECT is(
  (SELECT count(*)::int FROM public.vantage_sync_state WHERE resource LIKE 'probe%'),
  5,
  'only the valid probe rows were written');

SELECT * FROM finish();
ROLLBACK;
