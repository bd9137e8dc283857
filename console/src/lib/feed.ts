// Following the API's change feed: long-polls `GET /api/changes`, hands every
// change over once, and after a lost connection or an expired cursor starts
// again from the feed's edge and asks for a full reload (nothing missed:
// what changed while away is in the reloaded views).

export interface FeedChange {
  ticket_id: string;
  version: number;
  team: string;
  left_team?: string | null;
}

export interface FeedPage {
  changes: FeedChange[];
  next: string;
}

export type FeedEvent =
  | { type: "changes"; changes: FeedChange[] }
  | { type: "resync" }
  | { type: "status"; live: boolean };

export interface FeedDeps {
  /** One request: `since` null asks for the edge. Throws on failure; an
   * error with `status` 410 means the cursor expired. */
  fetchPage: (since: string | null, waitSeconds: number, signal: AbortSignal) => Promise<FeedPage>;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  emit: (event: FeedEvent) => void;
}

/** Backoff after the n-th failure in a row: 1 s, 2 s, 4 s… up to 30 s. */
export const backoff = (failures: number) => Math.min(30_000, 1000 * 2 ** Math.max(0, failures - 1));

export async function follow(deps: FeedDeps, signal: AbortSignal, waitSeconds = 20): Promise<void> {
  let cursor: string | null = null;
  let failures = 0;
  let mustResync = false;
  while (!signal.aborted) {
    try {
      if (cursor === null) {
        cursor = (await deps.fetchPage(null, 0, signal)).next;
        if (mustResync) deps.emit({ type: "resync" });
        mustResync = false;
        failures = 0;
        deps.emit({ type: "status", live: true });
        continue;
      }
      const page = await deps.fetchPage(cursor, waitSeconds, signal);
      cursor = page.next;
      failures = 0;
      if (page.changes.length > 0) deps.emit({ type: "changes", changes: page.changes });
    } catch {
      if (signal.aborted) return;
      failures += 1;
      cursor = null;
      mustResync = true;
      deps.emit({ type: "status", live: false });
      await deps.sleep(backoff(failures), signal);
    }
  }
}
