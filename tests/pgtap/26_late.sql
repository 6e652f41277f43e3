-- 26_late: late is a state (20261202100100). A scheduled resource that is not running and whose
-- last start (its creation, if it never started) is more than expected_interval + late_grace ago
-- is yellow with the alert late; exactly at the limit it is not yet late. late_grace defaults to
-- 1 hour; zero, negative and NULL are refused with a sentence (22023) and change nothing. Red
-- beats late (a failed late resource stays red, the alert says both); a running resource is never
-- late; without a schedule nothing is late. The rule functions answer their earlier calls as
-- before, and the view and the functions agree. The view reads now(), fixed in this transaction,
-- so the boundaries are exact.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(20);

-- late_grace -------------------------------------------------------------------------------------
SELECT has_column('public', 'vantage_sync_schedules', 'late_grace', 'schedules have late_grace');
SELECT col_not_null('public', 'vantage_sync_schedules', 'late_grace', 'late_grace is NOT NULL');
SELECT col_default_is('public', 'vantage_sync_schedules', 'late_grace', '01:00:00'::interval::text,
  'late_grace defaults to 1 hour');
SELECT col_has_check('public', 'vantage_sync_schedules', 'late_grace',
  'a CHECK holds late_grace positive when triggers are off');
SELECT has_column('public', 'vantage_sync_health', 'late_grace', 'the health view shows late_grace');

SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace)
                   VALUES ('accounts', interval '1 hour', interval '0')$$,
  '22023', 'late_grace of "accounts" must be a positive interval such as ''1 hour'' or ''15 minutes'', not 00:00:00',
  'a zero late_grace is refused with a sentence (22023: PostgREST answers 400)');
SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace)
                   VALUES ('accounts', interval '1 hour', interval '-5 minutes')$$,
  '22023', NULL, 'a negative late_grace is refused');
SELECT throws_ok($$INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace)
                   VALUES ('accounts', interval '1 hour', NULL)$$,
  '22023', NULL, 'a NULL late_grace is refused with the same sentence, not a NOT NULL violation');
SELECT is_empty($$SELECT resource FROM vantage_sync_schedules WHERE resource = 'accounts'$$,
  'the refused inserts wrote nothing');
INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace)
VALUES ('accounts', interval '1 hour', interval '10 minutes');
SELECT throws_ok($$UPDATE vantage_sync_schedules SET late_grace = interval '-1 second' WHERE resource = 'accounts'$$,
  '22023', NULL, 'an update to a negative late_grace is refused');
SELECT is((SELECT late_grace FROM vantage_sync_schedules WHERE resource = 'accounts'), interval '10 minutes',
  '... and the schedule keeps its late_grace');

-- the scene ----------------------------------------------------------------------------------------
-- accounts:    hourly, grace 10 min, last start 1 h 10 min + 1 µs ago     -> yellow, late
-- funds:       hourly, grace 10 min, last start exactly 1 h 10 min ago    -> green, missed_schedule only
-- investors:   hourly (default grace 1 h), stale after 48 h, last start 2 h 1 min ago -> yellow, late
-- cashflows:   hourly, failed 3 h ago                                     -> red, late too
-- valuations:  hourly, running for 3 hours, stuck after 4 h               -> green, not late
-- investments: no schedule, last success 5 hours ago                      -> green
INSERT INTO vantage_sync_schedules (resource, expected_interval, late_grace, stale_after, stuck_after) VALUES
  ('funds', interval '1 hour', interval '10 minutes', DEFAULT, DEFAULT),
  ('investors', interval '1 hour', DEFAULT, interval '48 hours', DEFAULT),
  ('cashflows', interval '1 hour', DEFAULT, DEFAULT, DEFAULT),
  ('valuations', interval '1 hour', DEFAULT, DEFAULT, interval '4 hours');
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '1 hour 9 minutes',
       started_at = now() - interval '1 hour 10 minutes 0.000001 seconds',
       completed_at = now() - interval '1 hour 9 minutes'
 WHERE resource = 'accounts';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '1 hour 9 minutes',
       started_at = now() - interval '1 hour 10 minutes', completed_at = now() - interval '1 hour 9 minutes'
 WHERE resource = 'funds';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '2 hours',
       started_at = now() - interval '2 hours 1 minute', completed_at = now() - interval '2 hours'
 WHERE resource = 'investors';
UPDATE vantage_sync_state
   SET last_sync_status = 'failed', started_at = now() - interval '3 hours',
       completed_at = now() - interval '3 hours', consecutive_failures = 1
 WHERE resource = 'cashflows';
SELECT start_vantage_sync('valuations');
UPDATE vantage_sync_state SET started_at = now() - interval '3 hours' WHERE resource = 'valuations';
UPDATE vantage_sync_state
   SET last_sync_status = 'success', last_sync_time = now() - interval '5 hours',
       started_at = now() - interval '5 hours 1 minute', completed_at = now() - interval '5 hours'
 WHERE resource = 'investments';

SELECT results_eq(
  $$SELECT resource, health, alerts FROM vantage_sync_health
     WHERE resource IN ('accounts', 'funds', 'investors', 'cashflows', 'valuations', 'investments')
     ORDER BY sort_key$$,
  $$VALUES ('cashflows'::text, 'red'::text, '{missed_schedule,late}'::text[]),
           ('accounts', 'yellow', '{missed_schedule,late}'),
           ('investors', 'yellow', '{missed_schedule,late}'),
           ('funds', 'green', '{missed_schedule}'),
           ('investments', 'green', '{}'),
           ('valuations', 'green', '{}')$$,
  'late is yellow past interval + grace (not at it), red wins over it, running and unscheduled resources are never late');
SELECT is((SELECT health FROM vantage_sync_health WHERE resource = 'investors'), 'yellow',
  'a job that silently stopped no longer looks healthy long before it is stale');
SELECT is((SELECT late_grace FROM vantage_sync_health WHERE resource = 'investors'), interval '1 hour',
  'the view shows the schedule''s late_grace');
SELECT is((SELECT late_grace FROM vantage_sync_health WHERE resource = 'investments'), NULL::interval,
  '... and none without a schedule');

UPDATE vantage_sync_schedules SET late_grace = interval '3 hours' WHERE resource = 'investors';
SELECT results_eq(
  $$SELECT health, alerts FROM vantage_sync_health WHERE resource = 'investors'$$,
  $$VALUES ('green'::text, '{missed_schedule}'::text[])$$,
  'a longer grace takes late back');

-- a scheduled resource that never ran is late from its creation on
INSERT INTO vantage_sync_state (resource, created_at) VALUES ('probe_new', now() - interval '3 hours');
INSERT INTO vantage_sync_schedules (resource, expected_interval) VALUES ('probe_new', interval '1 hour');
SELECT results_eq(
  $$SELECT health, alerts FROM vantage_sync_health WHERE resource = 'probe_new'$$,
  $$VALUES ('yellow'::text, '{missed_schedule,late}'::text[])$$,
  'never run, scheduled hourly, created 3 hours ago: late');

-- the rule functions -------------------------------------------------------------------------------
SELECT is(vantage_sync_health_rank_of('success', now() - interval '5 hours', now() - interval '5 hours',
            interval '24 hours', interval '30 minutes', now()), 3,
  'the rank rule called as before (no schedule arguments) never says late');
SELECT is(vantage_sync_alerts_of('success', now() - interval '5 hours', now() - interval '5 hours',
            now() - interval '10 days', 100, 0, interval '24 hours', interval '30 minutes',
            interval '5 minutes', interval '1 hour', now()), ARRAY['missed_schedule'],
  'the alert rule called as before (no grace) says missed_schedule, not late');
SELECT is_empty(
  $$SELECT h.resource FROM vantage_sync_health h
      LEFT JOIN vantage_sync_schedules sc USING (resource)
     WHERE h.health_rank <> vantage_sync_health_rank_of(h.last_sync_status, h.last_sync_time, h.started_at,
             h.stale_after, h.stuck_after, now(), h.created_at, h.expected_interval, sc.late_grace)
        OR h.alerts IS DISTINCT FROM vantage_sync_alerts_of(h.last_sync_status, h.last_sync_time, h.started_at,
             h.created_at, h.duration_ms, h.consecutive_failures, h.stale_after, h.stuck_after, h.slow_after,
             h.expected_interval, now(), sc.late_grace)$$,
  'the view and the rule functions agree on every row');

SELECT * FROM finish();
ROLLBACK;
