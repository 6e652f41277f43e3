// The page a Supabase team would write instead of the widget (`cargo xtask bench widget`):
// React 19 and supabase-js 2, one card per resource with the spec's line, nothing more.
// SUPABASE_URL and PUBLISHABLE_KEY are build-time settings (esbuild `--define`), as a team's
// bundler would inline them from its environment; the session is the user's access token from
// the URL fragment, as a Supabase auth redirect gives it.
import { createClient } from "@supabase/supabase-js";
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";

const token = new URLSearchParams(location.hash.slice(1)).get("access_token");
const supabase = createClient(SUPABASE_URL, PUBLISHABLE_KEY, {
  auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
  global: { headers: { Authorization: `Bearer ${token}` } },
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const plural = (n, unit) => `${n} ${unit}${n === 1 ? "" : "s"}`;

// As the widget words them: "12 minutes", "2 hours", "3 days".
function span(ms) {
  if (ms < MINUTE) return "less than a minute";
  if (ms < HOUR) return plural(Math.floor(ms / MINUTE), "minute");
  if (ms < DAY) return plural(Math.floor(ms / HOUR), "hour");
  return plural(Math.floor(ms / DAY), "day");
}

const ago = (time) => {
  const ms = Date.now() - Date.parse(time);
  return ms < MINUTE ? "just now" : `${span(ms)} ago`;
};

// The spec's line: "Last synced 2 hours ago (150 records in 3.2s)".
function statusLine(row) {
  switch (row.last_sync_status) {
    case "running":
      return row.started_at ? `Running for ${span(Date.now() - Date.parse(row.started_at))}` : "Running";
    case "failed": {
      const when = row.completed_at ?? row.started_at;
      const errors = row.error_count ? ` · ${plural(row.error_count, "error")}` : "";
      return `Failed${when ? ` ${ago(when)}` : ""}${errors}`;
    }
    case "never_run":
      return "Never synced";
    default: {
      if (!row.last_sync_time) return "Never synced";
      const records = row.records_synced == null ? "" : plural(row.records_synced, "record");
      const took = row.duration_ms == null ? "" : ` in ${(row.duration_ms / 1000).toFixed(1)}s`;
      return `Last synced ${ago(row.last_sync_time)}${records ? ` (${records}${took})` : ""}`;
    }
  }
}

// The health word, as the widget's card shows it beside the resource.
function stateWord(row) {
  const running = row.last_sync_status === "running";
  if (row.health === "red") return running ? "Stuck" : "Failing";
  if (running) return "Running";
  if (row.health === "yellow") return row.last_sync_status === "never_run" ? "Never synced" : "Stale";
  return "Healthy";
}

function Card({ row }) {
  return (
    <article className={`vss-card vss-health-${row.health}`}>
      <h3>{row.resource}</h3>
      <p>{stateWord(row)}</p>
      <p>{statusLine(row)}</p>
    </article>
  );
}

function App() {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    supabase
      .from("vantage_sync_health")
      .select("*")
      .order("sort_key")
      .range(0, 999)
      .then(({ data, error }) => (error ? setError(error.message) : setRows(data)));
  }, []);
  if (error) return <p role="alert">{error}</p>;
  if (!rows) return <p>Loading…</p>;
  return rows.map((row) => <Card key={row.resource} row={row} />);
}

createRoot(document.getElementById("cards")).render(<App />);
