-- 21_retry_status_wording: retry_status counts in the right number (20261125070000). A policy of
-- one attempt that gave up says "gave up after 1 attempt", of three "… 3 attempts"; the view kept
-- its columns in order, its security_invoker, and its read-only trigger.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap WITH SCHEMA extensions;
SET LOCAL search_path = public, extensions;
SELECT plan(5);

INSERT INTO vantage_sync_schedules (resource, retry_max_attempts) VALUES ('accounts', 1), ('funds', 3);
SELECT start_vantage_sync('accounts');
SELECT fail_vantage_sync('accounts', '[{"code":"E1","message":"one"}]');
SELECT is((SELECT retry_status FROM vantage_sync_health WHERE resource = 'accounts'),
  'gave up after 1 attempt', 'one attempt: singular');

-- Three failures in a row, each wait cleared as the table owner (as an operator may).
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'funds';
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
UPDATE vantage_sync_state SET next_attempt_at = NULL WHERE resource = 'funds';
SELECT start_vantage_sync('funds');
SELECT fail_vantage_sync('funds', '[{"code":"E","message":"m"}]');
SELECT is((SELECT retry_status FROM vantage_sync_health WHERE resource = 'funds'),
  'gave up after 3 attempts', 'three attempts: plural, as before');

SELECT is((SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
            WHERE attrelid = 'public.vantage_sync_health'::regclass AND attnum > 0)
          @> ARRAY['resource', 'retry_status'], true, 'the view still has its columns');
SELECT is((SELECT attname::text FROM pg_attribute
            WHERE attrelid = 'public.vantage_sync_health'::regclass
              AND attnum = (SELECT attnum + 1 FROM pg_attribute
                             WHERE attrelid = 'public.vantage_sync_health'::regclass
                               AND attname = 'retries_exhausted')),
  'retry_status', 'retry_status still follows retries_exhausted (later migrations append after it)');
SELECT has_trigger('public', 'vantage_sync_health', 'vantage_sync_health_read_only',
  'the view is still read-only');

SELECT * FROM finish();
ROLLBACK;
