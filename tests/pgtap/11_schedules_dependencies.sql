-- 11_schedules_dependencies: vantage_sync_schedules and vantage_sync_effective_schedule.
-- A resource without a schedule row gets the spec's thresholds (stale 24h, stuck 30m, slow 5m,
-- unscheduled, no dependencies); a row overrides them; the thresholds must be positive; a
-- self-dependency and dependency cycles (2 and 3 resources, by INSERT or UPDATE) are refused
-- with 22023 'dependency cycle: a -> b -> a'; and start_vantage_sync of a resource whose
-- dependency has not succeeded since the resource itself last succeeded raises PT409 naming
-- the dependency, then works once the dependency has succeeded.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(40);

CREATE FUNCTION pg_temp.err(p_sql text, OUT code text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE p_sql;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS code = RETURNED_SQLSTATE, message = MESSAGE_TEXT,
                          detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
END;
$$;

-- defaults ---------------------------------------------------------------------------------------
SELECT results_eq(
  $$SELECT * FROM vantage_sync_effective_schedule('accounts')$$,
  $$VALUES (NULL::interval, interval '24 hours', interval '30 minutes', interval '5 minutes', '{}'::text[])$$,
  'a resource without a schedule row: unscheduled, 24h / 30m / 5m, no dependencies');
SELECT results_eq(
  $$SELECT * FROM vantage_sync_effective_schedule('probe_not_a_resource')$$,
  $$VALUES (NULL::interval, interval '24 hours', interval '30 minutes', interval '5 minutes', '{}'::text[])$$,
  'a name that is not even a resource gets the defaults too');
INSERT INTO vantage_sync_schedules (resource) VALUES ('commitments');
SELECT results_eq(
  $$SELECT expected_interval, stale_after, stuck_after, slow_after, depends_on
      FROM vantage_sync_schedules WHERE resource = 'commitments'$$,
  $$VALUES (NULL::interval, interval '24 hours', interval '30 minutes', interval '5 minutes', '{}'::text[])$$,
  'a schedule row''s column defaults are the same thresholds');
SELECT results_eq(
  $$SELECT * FROM vantage_sync_effective_schedule('commitments')$$,
  $$VALUES (NULL::interval, interval '24 hours', interval '30 minutes', interval '5 minutes', '{}'::text[])$$,
  'a default schedule row gives the defaults');

-- a row overrides --------------------------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, expected_interval, stale_after, stuck_after, slow_after, depends_on)
VALUES ('cashflows', interval '1 hour', interval '2 hours', interval '10 minutes', interval '1 minute', '{accounts}');
SELECT results_eq(
  $$SELECT * FROM vantage_sync_effective_schedule('cashflows')$$,
  $$VALUES (interval '1 hour', interval '2 hours', interval '10 minutes', interval '1 minute', '{accounts}'::text[])$$,
  'a schedule row overrides every threshold');
SELECT results_eq(
  $$SELECT * FROM vantage_sync_effective_schedule('accounts')$$,
  $$VALUES (NULL::interval, interval '24 hours', interval '30 minutes', interval '5 minutes', '{}'::text[])$$,
  'other resources keep the defaults');
UPDATE vantage_sync_schedules SET stuck_after = interval '45 minutes' WHERE resource = 'cashflows';
SELECT is((SELECT stuck_after FROM vantage_sync_effective_schedule('cashflows')), interval '45 minutes',
  'an updated schedule applies at once');
SELECT ok(
  (SELECT updated_at > created_at FROM vantage_sync_schedules WHERE resource = 'cashflows'),
  'updating a schedule moves its updated_at');

-- thresholds must be positive --------------------------------------------------------------------
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, stale_after) VALUES ('probe_s', interval '0')$$,
  '23514', 'new row for relation "vantage_sync_schedules" violates check constraint "vantage_sync_schedules_stale_after_check"',
  'stale_after 0 rejected');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, stuck_after) VALUES ('probe_s', interval '-5 minutes')$$,
  '23514', 'new row for relation "vantage_sync_schedules" violates check constraint "vantage_sync_schedules_stuck_after_check"',
  'negative stuck_after rejected');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, slow_after) VALUES ('probe_s', interval '0')$$,
  '23514', 'new row for relation "vantage_sync_schedules" violates check constraint "vantage_sync_schedules_slow_after_check"',
  'slow_after 0 rejected');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, expected_interval) VALUES ('probe_s', interval '0')$$,
  '23514', 'new row for relation "vantage_sync_schedules" violates check constraint "vantage_sync_schedules_expected_interval_check"',
  'expected_interval 0 rejected');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, stuck_after) VALUES ('probe_s', NULL)$$,
  '23502', NULL, 'NULL stuck_after rejected');

-- self-dependency --------------------------------------------------------------------------------
-- The cycle trigger (BEFORE) sees a self-dependency as a cycle of one and refuses it before the
-- CHECK is evaluated; the CHECK itself is shown with triggers switched off.
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('funds', '{funds}')$$,
  '22023', 'dependency cycle: funds -> funds',
  'self-dependency refused on INSERT');
SELECT throws_ok(
  $$UPDATE vantage_sync_schedules SET depends_on = '{accounts, cashflows}' WHERE resource = 'cashflows'$$,
  '22023', 'dependency cycle: cashflows -> cashflows',
  'self-dependency refused on UPDATE');
SET LOCAL session_replication_role = replica;
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('funds', '{accounts, funds}')$$,
  '23514', 'new row for relation "vantage_sync_schedules" violates check constraint "vantage_sync_schedules_no_self_dependency"',
  'the CHECK vantage_sync_schedules_no_self_dependency rejects it too');
SET LOCAL session_replication_role = origin;

-- cycles -----------------------------------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_a', '{probe_b}');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_b', '{probe_a}')$$,
  '22023', 'dependency cycle: probe_b -> probe_a -> probe_b',
  'a -> b, b -> a: refused');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_m', '{probe_n}'), ('probe_n', '{probe_m}')$$,
  '22023', 'dependency cycle: probe_n -> probe_m -> probe_n',
  'a 2-cycle in one multi-row INSERT: refused');
INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_x', '{probe_y}'), ('probe_y', '{probe_z}');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_z', '{probe_x}')$$,
  '22023', 'dependency cycle: probe_z -> probe_x -> probe_y -> probe_z',
  'x -> y -> z -> x: refused');
INSERT INTO vantage_sync_schedules (resource) VALUES ('probe_z');
SELECT throws_ok(
  $$UPDATE vantage_sync_schedules SET depends_on = '{accounts, probe_x}' WHERE resource = 'probe_z'$$,
  '22023', 'dependency cycle: probe_z -> probe_x -> probe_y -> probe_z',
  'a 3-cycle made by UPDATE: refused');
SELECT is_empty(
  $$SELECT resource FROM vantage_sync_schedules
     WHERE resource IN ('probe_b', 'probe_m', 'probe_n') OR (resource = 'probe_z' AND depends_on <> '{}')$$,
  'refused rows were not written');
SELECT lives_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES
      ('probe_d1', '{probe_d2, probe_d3}'), ('probe_d2', '{probe_d3}'), ('probe_d3', '{probe_x}')$$,
  'a diamond (shared dependencies, no cycle) is accepted');
SELECT lives_ok(
  $$UPDATE vantage_sync_schedules SET depends_on = '{probe_d1}' WHERE resource = 'probe_a'$$,
  'a long chain without a cycle is accepted');

-- renaming a resource can close a cycle too
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_r1', '{probe_r2}'), ('probe_r3', '{probe_r1}');
    UPDATE vantage_sync_schedules SET resource = 'probe_r2' WHERE resource = 'probe_r3'$$,
  '22023', 'dependency cycle: probe_r2 -> probe_r1 -> probe_r2',
  'a cycle made by renaming a schedule''s resource: refused');
-- names no sync could ever satisfy
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_null_dep', ARRAY['accounts', NULL])$$,
  '23514', NULL, 'a NULL dependency name is refused');
SELECT throws_ok(
  $$INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('probe_blank_dep', '{""}')$$,
  '23514', NULL, 'a blank dependency name is refused');

-- dependencies gate start ------------------------------------------------------------------------
INSERT INTO vantage_sync_schedules (resource, depends_on) VALUES ('investments', '{accounts}');
SELECT throws_ok(
  $$SELECT start_vantage_sync('investments')$$,
  'PT409', 'resource "investments" depends on "accounts", which has not synced successfully since "investments" last did',
  'dependency never synced: start raises PT409 naming it');
SELECT results_eq(
  $q$SELECT code, nullif(detail, '')::jsonb - 'dependency_last_sync_time' - 'last_sync_time', hint
       FROM pg_temp.err('SELECT start_vantage_sync(''investments'')')$q$,
  $$VALUES ('PT409'::text, '{"resource": "investments", "dependency": "accounts"}'::jsonb, 'Sync "accounts" first.'::text)$$,
  'the 409 carries the dependency in DETAIL and a HINT');
SELECT results_eq(
  $$SELECT last_sync_status, current_run_id FROM vantage_sync_state WHERE resource = 'investments'$$,
  $$VALUES ('never_run'::text, NULL::uuid)$$,
  'the refused start changed nothing');
SELECT is_empty($$SELECT 1 FROM vantage_sync_runs WHERE resource = 'investments'$$,
  'the refused start wrote no history row');

SELECT start_vantage_sync('accounts');
SELECT throws_ok(
  $$SELECT start_vantage_sync('investments')$$, 'PT409', NULL,
  'dependency running but not yet succeeded: still PT409');
SELECT complete_vantage_sync('accounts', 1, 1, 0);
SELECT lives_ok($$SELECT start_vantage_sync('investments')$$, 'dependency succeeded: start works');
SELECT complete_vantage_sync('investments', 1, 1, 0);
SELECT throws_ok(
  $$SELECT start_vantage_sync('investments')$$,
  'PT409', 'resource "investments" depends on "accounts", which has not synced successfully since "investments" last did',
  'dependency has not succeeded again since: PT409');
SELECT start_vantage_sync('accounts');
SELECT fail_vantage_sync('accounts', '[{"code":"E","message":"m"}]');
SELECT throws_ok(
  $$SELECT start_vantage_sync('investments')$$, 'PT409', NULL,
  'a failed dependency run does not count');
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 2, 0, 2);
SELECT lives_ok($$SELECT start_vantage_sync('investments')$$, 'dependency succeeded again: start works');
SELECT fail_vantage_sync('investments', '[{"code":"E","message":"m"}]');
SELECT lives_ok($$SELECT start_vantage_sync('investments')$$,
  'after its own failure the resource may retry (dependency succeeded since its last success)');
SELECT complete_vantage_sync('investments', 1, 1, 0);

-- several dependencies: the first one missing is named
UPDATE vantage_sync_schedules SET depends_on = '{accounts, funds}' WHERE resource = 'investments';
SELECT start_vantage_sync('accounts');
SELECT complete_vantage_sync('accounts', 1, 1, 0);
SELECT throws_ok(
  $$SELECT start_vantage_sync('investments')$$,
  'PT409', 'resource "investments" depends on "funds", which has not synced successfully since "investments" last did',
  'two dependencies, one satisfied: PT409 names the other');
SELECT start_vantage_sync('funds');
SELECT complete_vantage_sync('funds', 1, 1, 0);
SELECT lives_ok($$SELECT start_vantage_sync('investments')$$, 'both dependencies succeeded: start works');

-- a resource without dependencies is never gated
SELECT lives_ok($$SELECT start_vantage_sync('valuations')$$, 'no dependencies: start works');
SELECT lives_ok($$SELECT start_vantage_sync('commitments')$$, 'a default schedule row: start works');

SELECT * FROM finish();
ROLLBACK;
