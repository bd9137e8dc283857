import { describe, expect, it } from "vitest";
import { clockState, countdown, csvLine, daysBetween, mentions, placeholders } from "./format";

describe("countdown", () => {
  it("shows minutes and seconds under an hour, hours and minutes above, days past a day", () => {
    expect(countdown(125_000)).toBe("2m 05s");
    expect(countdown(3_900_000)).toBe("1h 05m");
    expect(countdown(2 * 86_400_000 + 3_600_000)).toBe("2d 1h");
  });
  it("marks an overdue clock with a minus", () => {
    expect(countdown(-250_000)).toBe("-4m 10s");
  });
});

describe("clockState", () => {
  const clock = { due_at_ms: 1000, warn_at_ms: 800, breached_at_ms: null, running_since_ms: 0 };
  it("is ok before the warning, warning at 80%, breached at the deadline", () => {
    expect(clockState(clock, 500)).toBe("ok");
    expect(clockState(clock, 800)).toBe("warning");
    expect(clockState(clock, 1000)).toBe("breached");
  });
  it("is breached once the sweep recorded it, stopped while paused", () => {
    expect(clockState({ ...clock, breached_at_ms: 900 }, 500)).toBe("breached");
    expect(clockState({ ...clock, running_since_ms: null }, 500)).toBe("stopped");
    expect(clockState({ ...clock, running_since_ms: null, due_at_ms: null }, 5000)).toBe("stopped");
    expect(clockState({ ...clock, running_since_ms: null }, 5000)).toBe("stopped");
  });
});

describe("csvLine", () => {
  it("quotes fields with commas, quotes and line breaks, and leaves empty ones empty", () => {
    expect(csvLine(["a", 1, null, 'say "hi", ok', "two\nlines"])).toBe('a,1,,"say ""hi"", ok","two\nlines"');
  });
});

describe("placeholders and mentions", () => {
  it("finds each placeholder once", () => {
    expect(placeholders("Hi {customer_name}, order {order_number} for {customer_name}")).toEqual([
      "customer_name",
      "order_number",
    ]);
  });
  it("finds mentions at word starts only", () => {
    expect(mentions("@lea can you and @Ben check? mail a@b.c")).toEqual(["lea", "ben"]);
  });
});

describe("daysBetween", () => {
  it("lists every day, both ends included, across a month end, bounded", () => {
    expect(daysBetween("2026-11-29", "2026-12-02")).toEqual(["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02"]);
    expect(daysBetween("2026-01-01", "2026-12-31", 5)).toHaveLength(5);
    expect(daysBetween("2026-12-02", "2026-12-01")).toEqual([]);
  });
});
