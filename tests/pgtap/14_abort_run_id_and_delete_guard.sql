-- 14_abort_run_id_and_delete_guard: abort_vantage_sync with p_run_id aborts only the run the
-- admin saw; deleting a state row whose run is running records that run as failed in history.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(9);

-- abort with a run id ----------------------------------------------------------------------------
CREATE TEMP TABLE t_run ON COMMIT DROP AS SELECT start_vantage_sync('accounts') AS run_id;
SELECT throws_ok(
  $$SELECT abort_vantage_sync('accounts', 'stale click', 'admin', '00000000-0000-4000-8000-000000000000')$$,
  'PT409', NULL, 'abort naming a run that is not current: PT409');
SELECT is((SELECT last_sync_status FROM vantage_sync_state WHERE resource = 'accounts'), 'running',
  'the refused abort changed nothing');
SELECT is(
  (SELECT abort_vantage_sync('accounts', 'operator stop', 'admin', (SELECT run_id FROM t_run))),
  (SELECT run_id FROM t_run), 'abort naming the current run returns it');
SELECT is(
  (SELECT errors->0->>'code' || '|' || (errors->0->>'message') FROM vantage_sync_runs
    WHERE run_id = (SELECT run_id FROM t_run)),
  'ABORTED|operator stop', 'its history row is failed with ABORTED and the reason');
SELECT throws_ok(
  $$SELECT abort_vantage_sync('accounts', 'again', 'admin', (SELECT run_id FROM t_run))$$,
  'PT409', NULL, 'aborting the same run twice: PT409 (already finished)');

-- delete guard -----------------------------------------------------------------------------------
CREATE TEMP TABLE t_del ON COMMIT DROP AS SELECT start_vantage_sync('funds') AS run_id;
SET LOCAL ROLE service_role;
SELECT lives_ok($$DELETE FROM vantage_sync_state WHERE resource = 'funds'$$,
  'service_role may delete a running state row (the spec grants it)');
RESET ROLE;
SELECT is(
  (SELECT status || '|' || (errors->0->>'code') FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_del)),
  'failed|RESOURCE_DELETED', 'the deleted row''s running run is recorded as failed');
SELECT ok(
  (SELECT completed_at >= started_at FROM vantage_sync_runs WHERE run_id = (SELECT run_id FROM t_del)),
  'with a completion time');
SELECT is_empty(
  $$SELECT 1 FROM vantage_sync_runs WHERE status = 'running' AND resource = 'funds'$$,
  'no run of a deleted resource is left running');

SELECT * FROM finish();
ROLLBACK;
