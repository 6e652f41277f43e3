-- 15_start_run: start_vantage_sync_run (20261124220000), the edge's one-call start. It returns
-- the run id and started_at of the run it starts, equal to the state row's and the history
-- row's; it refuses exactly what start_vantage_sync refuses (PT409 while running, 22023 for a
-- blank name) and changes nothing then; only service_role may execute it; it runs as its caller
-- with a fixed search_path.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(14);

SELECT has_function('public', 'start_vantage_sync_run', ARRAY['text'], 'start_vantage_sync_run(text) exists');
SELECT is((SELECT prosecdef FROM pg_proc WHERE oid = 'public.start_vantage_sync_run(text)'::regprocedure),
  false, 'it is SECURITY INVOKER');
SELECT ok((SELECT proconfig @> ARRAY['search_path=""'] FROM pg_proc
            WHERE oid = 'public.start_vantage_sync_run(text)'::regprocedure),
  'its search_path is fixed to empty');

-- a start: one row, whose id and time are the run's
CREATE TEMP TABLE t_started ON COMMIT DROP AS SELECT * FROM public.start_vantage_sync_run('accounts');
SELECT is((SELECT count(*) FROM t_started), 1::bigint, 'one row comes back');
SELECT is((SELECT run_id FROM t_started),
  (SELECT current_run_id FROM vantage_sync_state WHERE resource = 'accounts'),
  'its run_id is the current run of the state row');
SELECT is((SELECT started_at FROM t_started),
  (SELECT started_at FROM vantage_sync_state WHERE resource = 'accounts'),
  'its started_at is the state row''s');
SELECT is((SELECT started_at FROM t_started),
  (SELECT r.started_at FROM vantage_sync_runs r JOIN t_started t USING (run_id)),
  'its started_at is the history row''s');
SELECT is((SELECT status FROM vantage_sync_runs r JOIN t_started t USING (run_id)), 'running',
  'the history row is running');

-- refusals: the same as start_vantage_sync, and nothing changes
SELECT throws_ok($$SELECT * FROM public.start_vantage_sync_run('accounts')$$, 'PT409', NULL,
  'a start while a run is in progress raises PT409');
SELECT is((SELECT count(*) FROM vantage_sync_runs WHERE resource = 'accounts'), 1::bigint,
  'the refused start wrote no history row');
SELECT throws_ok($$SELECT * FROM public.start_vantage_sync_run(' ')$$, '22023', NULL,
  'a blank name raises 22023');

-- privileges: service_role only
SELECT function_privs_are('public', 'start_vantage_sync_run', ARRAY['text'], 'anon', '{}'::text[],
  'anon may not execute it');
SELECT function_privs_are('public', 'start_vantage_sync_run', ARRAY['text'], 'authenticated', '{}'::text[],
  'authenticated may not execute it');
SELECT function_privs_are('public', 'start_vantage_sync_run', ARRAY['text'], 'service_role', ARRAY['EXECUTE'],
  'service_role may execute it');

SELECT * FROM finish();
ROLLBACK;
