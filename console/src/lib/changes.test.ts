import { describe, expect, it } from "vitest";
import type { Ticket, TimelineEntry } from "../api/types";
import { whatChanged } from "./changes";

const ticket = {
  id: "TK-1",
  status: "assigned",
  assignee: "ana",
  team: "support",
  priority: "normal",
  version: 7,
} as Ticket;
const entry = (id: string, author: TimelineEntry["author"], direction: TimelineEntry["direction"] = "outbound"): TimelineEntry => ({
  id,
  at_ms: 1,
  direction,
  kind: "text",
  summary: id,
  author,
});
const known = [entry("w1", { type: "customer" }, "inbound")];

describe("what changed on a ticket", () => {
  it("is nothing when only the agent's own message was recorded and delivered", () => {
    const body = {
      code: "ticket_changed",
      error: "",
      current: { ticket: { ...ticket, version: 9 }, recent: [...known, entry("w2", { type: "agent", name: "ana" })] },
    };
    expect(whatChanged(ticket, known, body, "ana")).toEqual([]);
  });
  it("names a new owner, a status, a priority and another person's message", () => {
    const from_ben = entry("w3", { type: "agent", name: "ben" });
    const from_customer = entry("w4", { type: "customer" }, "inbound");
    const body = {
      code: "ticket_changed",
      error: "",
      current: {
        ticket: { ...ticket, assignee: "ben", status: "resolved", priority: "urgent", version: 9 } as Ticket,
        recent: [from_ben, from_customer],
      },
    };
    expect(whatChanged(ticket, known, body, "ana")).toEqual([
      { kind: "status", from: "assigned", to: "resolved" },
      { kind: "assignee", to: "ben" },
      { kind: "priority", to: "urgent" },
      { kind: "entry", entry: from_ben },
      { kind: "entry", entry: from_customer },
    ]);
  });
});
