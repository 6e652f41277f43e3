-- Demo data: one resource in every state the dashboard knows. States are reached through the
-- spec's functions; only the clock is then moved back (as superuser), so a few minutes of demo
-- look like hours of history.

-- accounts: healthy. Synced 2 hours ago, 150 records in 3.2 s (the spec's example line).
SELECT public.start_vantage_sync('accounts');
SELECT public.complete_vantage_sync('accounts', 150, 10, 140);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '2 hours 3.2 seconds',
       completed_at = now() - interval '2 hours',
       last_sync_time = now() - interval '2 hours'
 WHERE resource = 'accounts';

-- funds: failing. Last good sync 3 hours ago, the latest run failed 5 minutes ago with 2 errors.
SELECT public.start_vantage_sync('funds');
SELECT public.complete_vantage_sync('funds', 42, 2, 40);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '3 hours 1 second', completed_at = now() - interval '3 hours',
       last_sync_time = now() - interval '3 hours'
 WHERE resource = 'funds';
SELECT public.start_vantage_sync('funds');
SELECT public.fail_vantage_sync('funds', '[
  {"code": "API_TIMEOUT", "message": "Vantage API request timed out after 30s", "timestamp": "2025-11-05T10:30:00Z"},
  {"code": "PARSE_ERROR", "message": "Invalid JSON in record ID 12345", "record_id": "12345"}
]'::jsonb);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '5 minutes 31 seconds', completed_at = now() - interval '5 minutes'
 WHERE resource = 'funds';

-- cashflows: running for 4 minutes, last good sync 1 hour ago.
SELECT public.start_vantage_sync('cashflows');
SELECT public.complete_vantage_sync('cashflows', 1280, 80, 1200);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '1 hour 12 seconds', completed_at = now() - interval '1 hour',
       last_sync_time = now() - interval '1 hour'
 WHERE resource = 'cashflows';
SELECT public.start_vantage_sync('cashflows');
UPDATE public.vantage_sync_state SET started_at = now() - interval '4 minutes' WHERE resource = 'cashflows';

-- commitments: stuck. Running for 2 hours (the threshold is 30 minutes).
SELECT public.start_vantage_sync('commitments');
SELECT public.complete_vantage_sync('commitments', 310, 5, 305);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '3 hours 20 seconds', completed_at = now() - interval '3 hours',
       last_sync_time = now() - interval '3 hours'
 WHERE resource = 'commitments';
SELECT public.start_vantage_sync('commitments');
UPDATE public.vantage_sync_state SET started_at = now() - interval '2 hours' WHERE resource = 'commitments';

-- investors: stale. The last sync succeeded 30 hours ago (allowed: 24 hours).
SELECT public.start_vantage_sync('investors');
SELECT public.complete_vantage_sync('investors', 77, 1, 76);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '30 hours 2 seconds', completed_at = now() - interval '30 hours',
       last_sync_time = now() - interval '30 hours'
 WHERE resource = 'investors';

-- investments: never run (left as the migration seeded it).

-- valuations: healthy but slow. 48,210 records in 7 minutes, 10 minutes ago.
SELECT public.start_vantage_sync('valuations');
SELECT public.complete_vantage_sync('valuations', 48210, 210, 48000);
UPDATE public.vantage_sync_state
   SET started_at = now() - interval '17 minutes', completed_at = now() - interval '10 minutes',
       last_sync_time = now() - interval '10 minutes'
 WHERE resource = 'valuations';
