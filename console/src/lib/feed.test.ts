import { describe, expect, it } from "vitest";
import { backoff, follow, type FeedEvent, type FeedPage } from "./feed";

/** A scripted feed: each call answers the next step (a page or an error). */
function scripted(steps: (FeedPage | Error)[], controller: AbortController) {
  const calls: (string | null)[] = [];
  const events: FeedEvent[] = [];
  const sleeps: number[] = [];
  const deps = {
    fetchPage: async (since: string | null) => {
      calls.push(since);
      const step = steps.shift();
      if (step === undefined) {
        controller.abort();
        throw new Error("done");
      }
      if (step instanceof Error) throw step;
      return step;
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    emit: (event: FeedEvent) => events.push(event),
  };
  return { deps, calls, events, sleeps };
}

const change = (id: string, version: number) => ({ ticket_id: id, version, team: "support" });

describe("following the change feed", () => {
  it("starts at the edge, then hands over every page's changes and follows its cursor", async () => {
    const controller = new AbortController();
    const { deps, calls, events } = scripted(
      [
        { changes: [], next: "c0" },
        { changes: [change("TK-1", 2)], next: "c1" },
        { changes: [], next: "c1" },
        { changes: [change("TK-1", 3), change("TK-2", 1)], next: "c2" },
      ],
      controller,
    );
    await follow(deps, controller.signal);
    expect(calls).toEqual([null, "c0", "c1", "c1", "c2"]);
    expect(events.filter((e) => e.type === "changes")).toEqual([
      { type: "changes", changes: [change("TK-1", 2)] },
      { type: "changes", changes: [change("TK-1", 3), change("TK-2", 1)] },
    ]);
    expect(events.some((e) => e.type === "resync")).toBe(false);
  });

  it("after a lost connection waits, starts again from the edge and asks for a full reload", async () => {
    const controller = new AbortController();
    const { deps, calls, events, sleeps } = scripted(
      [
        { changes: [], next: "c0" },
        new Error("network"),
        new Error("network"),
        { changes: [], next: "c5" },
        { changes: [change("TK-9", 4)], next: "c6" },
      ],
      controller,
    );
    await follow(deps, controller.signal);
    expect(calls).toEqual([null, "c0", null, null, "c5", "c6"]);
    expect(sleeps).toEqual([1000, 2000]);
    const kinds = events.map((e) => (e.type === "status" ? `live:${e.live}` : e.type));
    expect(kinds).toEqual(["live:true", "live:false", "live:false", "resync", "live:true", "changes"]);
  });

  it("backs off up to 30 seconds", () => {
    expect([1, 2, 3, 6, 10].map(backoff)).toEqual([1000, 2000, 4000, 30000, 30000]);
  });
});
