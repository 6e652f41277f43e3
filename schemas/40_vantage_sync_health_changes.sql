-- What changed since a moment, in one snapshot: the widget's refresh at scale (issue 24).
--
-- With thousands of resources the widget reads every row once, then each refresh asks only for
-- the rows whose updated_at is at or after a moment (the previous answer's now(), less a
-- margin), and recomputes the health that changes with time (stale, stuck, late) in the browser
-- by the rules the truth table checks against this database. What a row-by-row delta cannot see
-- is caught by a digest of the same snapshot:
--   total      the resources the caller may read (a deletion changes it);
--   checksum   the sum of every row's updated_at in microseconds, modulo 2^53 (so it is exact in
--              a JSON number): the browser sums its own copy; any update it missed, or any row
--              deleted and another inserted, makes the two differ;
--   schedules  an md5 of the schedules and the defaults (thresholds the rows depend on; the
--              browser only compares it with the previous answer's).
-- On any difference the widget reads everything again. Rows and digest come from one statement,
-- so they are one snapshot: a write between two requests can never look like a missed one.
--
-- p_since NULL: no rows, but the exact counts per health and of late resources (the summary the
-- widget shows before it has every row). The rows' keys are the columns a card shows, the same
-- list as the widget's select= (app/src/api.rs, CARD_COLUMNS).
--
-- SECURITY INVOKER: RLS and the view's privileges apply as the caller's, so a user counts and
-- reads only what they may read. search_path is fixed (Supabase's lint 0011); every name is
-- qualified. EXECUTE for authenticated and service_role, who may read the view.

CREATE FUNCTION public.vantage_sync_health_changes(p_since timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = ''
AS $$
  SELECT jsonb_build_object(
    'now', now(),
    'total', (SELECT count(*) FROM public.vantage_sync_state),
    'checksum', (SELECT (coalesce(sum((extract(epoch FROM s.updated_at) * 1000000)::bigint), 0)
                         % 9007199254740992)::bigint
                   FROM public.vantage_sync_state AS s),
    'schedules', (SELECT md5(coalesce(string_agg(sc::text, '|' ORDER BY sc.resource), '')
                             || (SELECT d::text FROM public.vantage_sync_default_schedule() AS d))
                    FROM public.vantage_sync_schedules AS sc),
    'counts', CASE WHEN p_since IS NULL THEN
                (SELECT jsonb_build_object(
                          'red', count(*) FILTER (WHERE h.health = 'red'),
                          'yellow', count(*) FILTER (WHERE h.health = 'yellow'),
                          'green', count(*) FILTER (WHERE h.health = 'green'),
                          'late', count(*) FILTER (WHERE 'late' = ANY (h.alerts)))
                   FROM public.vantage_sync_health AS h)
              END,
    'rows', CASE WHEN p_since IS NULL THEN '[]'::jsonb ELSE
              (SELECT coalesce(jsonb_agg(to_jsonb(r) ORDER BY r.resource), '[]'::jsonb)
                 FROM (SELECT h.resource, h.last_sync_status, h.last_sync_time, h.started_at,
                              h.completed_at, h.created_at, h.updated_at, h.duration_ms,
                              h.records_synced, h.errors, h.consecutive_failures,
                              h.stale_after, h.stuck_after, h.slow_after, h.expected_interval,
                              h.late_grace, h.next_attempt, h.retry_max_attempts,
                              h.next_attempt_at, h.retries_exhausted
                         FROM public.vantage_sync_health AS h
                        WHERE h.updated_at >= p_since) AS r)
            END
  )
$$;

COMMENT ON FUNCTION public.vantage_sync_health_changes(timestamptz) IS
  'The widget''s refresh: now(), the digest (total, checksum of updated_at, schedules) and the card columns of the rows updated at or after p_since, in one snapshot; with p_since NULL the exact counts per health and of late resources instead of rows.';

REVOKE ALL ON FUNCTION public.vantage_sync_health_changes(timestamptz) FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_health_changes(timestamptz) TO authenticated, service_role;

