-- As 20261207190000 made it, with the card columns last_heartbeat_at, records_so_far and
-- counts_reported appended to the rows.
CREATE OR REPLACE FUNCTION public.vantage_sync_health_changes(p_since timestamptz DEFAULT NULL)
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
                              h.next_attempt_at, h.retries_exhausted,
                              h.last_heartbeat_at, h.records_so_far, h.counts_reported
                         FROM public.vantage_sync_health AS h
                        WHERE h.updated_at >= p_since) AS r)
            END
  )
$$;

COMMENT ON FUNCTION public.vantage_sync_health_changes(timestamptz) IS
  'The widget''s refresh: now(), the digest (total, checksum of updated_at, schedules) and the card columns of the rows updated at or after p_since, in one snapshot; with p_since NULL the exact counts per health and of late resources instead of rows.';

REVOKE ALL ON FUNCTION public.vantage_sync_health_changes(timestamptz) FROM PUBLIC, anon;

GRANT EXECUTE ON FUNCTION public.vantage_sync_health_changes(timestamptz) TO authenticated, service_role;

