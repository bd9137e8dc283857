// Pure formatting helpers, unit-tested in format.test.ts.

/** "1h 05m", "12m 03s", "-4m 10s" (overdue) for a duration in milliseconds. */
export function countdown(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const two = (n: number) => String(n).padStart(2, "0");
  if (d > 0) return `${sign}${d}d ${h}h`;
  if (h > 0) return `${sign}${h}h ${two(m)}m`;
  return `${sign}${m}m ${two(s)}s`;
}

export type ClockState = "ok" | "warning" | "breached" | "stopped";

/** Where an SLA clock stands at `now`. */
export function clockState(
  clock: { due_at_ms: number | null; warn_at_ms: number | null; breached_at_ms: number | null; running_since_ms: number | null },
  now: number,
): ClockState {
  if (clock.breached_at_ms !== null) return "breached";
  // A paused clock (waiting on the customer) has no deadline until it runs again.
  if (clock.running_since_ms === null || !clock.due_at_ms) return "stopped";
  if (now >= clock.due_at_ms) return "breached";
  if (clock.warn_at_ms !== null && now >= clock.warn_at_ms) return "warning";
  return "ok";
}

/** A CSV line: fields quoted when they hold a comma, a quote or a line break. */
export function csvLine(fields: (string | number | null | undefined)[]): string {
  return fields
    .map((f) => {
      const text = f === null || f === undefined ? "" : String(f);
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    })
    .join(",");
}

/** Placeholders `{name}` of a canned response still to fill. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\{([a-z_]+)\}/g)].map((m) => m[1]))];
}

/** The `@name` mentions of a note. */
export function mentions(text: string): string[] {
  return [...new Set([...text.matchAll(/(?:^|\s)@([a-z0-9._-]+)/gi)].map((m) => m[1].toLowerCase()))];
}

/** The days from `from` to `to` (YYYY-MM-DD, both included), at most `max`. */
export function daysBetween(from: string, to: string, max = 31): string[] {
  const days: string[] = [];
  const day = new Date(`${from}T00:00:00Z`);
  const end = new Date(`${to}T00:00:00Z`);
  while (day <= end && days.length < max) {
    days.push(day.toISOString().slice(0, 10));
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return days;
}

/** YYYY-MM-DD of a time in UTC. */
export const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** File size for people. */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
