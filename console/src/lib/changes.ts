// What changed on a ticket between the version an agent acted on and the
// version the API holds (its 412 answer): what a person needs to know before
// acting again. Deliveries and the recording of sent messages move the
// version too, but change nothing an agent decides on.
import type { ApiErrorBody, Ticket, TimelineEntry } from "../api/types";

export type Change =
  | { kind: "status"; from: Ticket["status"]; to: Ticket["status"] }
  | { kind: "assignee"; to: string | null }
  | { kind: "team"; to: string }
  | { kind: "priority"; to: Ticket["priority"] }
  | { kind: "tags" }
  | { kind: "entry"; entry: TimelineEntry };

export function whatChanged(ticket: Ticket, timeline: TimelineEntry[], body: ApiErrorBody | null, me: string): Change[] {
  const current = body?.current?.ticket;
  if (!current) return [];
  const changes: Change[] = [];
  if (current.status !== ticket.status) changes.push({ kind: "status", from: ticket.status, to: current.status });
  if (current.assignee !== ticket.assignee) changes.push({ kind: "assignee", to: current.assignee });
  if (current.team !== ticket.team) changes.push({ kind: "team", to: current.team });
  if (current.priority !== ticket.priority) changes.push({ kind: "priority", to: current.priority });
  if ((current.tags ?? []).join(",") !== (ticket.tags ?? []).join(",")) changes.push({ kind: "tags" });
  const known = new Set(timeline.map((e) => e.id));
  for (const entry of body?.current?.recent ?? []) {
    if (known.has(entry.id)) continue;
    const mine = entry.author.type === "agent" && entry.author.name === me;
    // Someone else's words or actions; the agent's own sent messages are known to them.
    if (!mine && entry.author.type !== "system") changes.push({ kind: "entry", entry });
  }
  return changes;
}
