// The API's data as the console reads it, cached and shared by React Query.
import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, must } from "./api/client";
import type { Counts, Me, TicketDetail, TicketPage } from "./api/types";
import { follow, type FeedPage } from "./lib/feed";

export const VIEWS = ["mine", "unassigned", "open", "at_risk", "waiting", "resolved"] as const;
export type View = (typeof VIEWS)[number];

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: () => must<Me>(api.GET("/api/me")),
    staleTime: 5 * 60_000,
  });
}

export function useCounts() {
  return useQuery({
    queryKey: ["counts"],
    queryFn: () => must<Counts>(api.GET("/api/tickets/counts")),
  });
}

/** A view, 50 tickets a page; `fetchNextPage` follows `next_cursor`. */
export function useTickets(view: View, team: string | undefined) {
  return useInfiniteQuery({
    queryKey: ["tickets", view, team ?? ""],
    initialPageParam: null as string | null,
    queryFn: ({ pageParam }) =>
      must<TicketPage>(
        api.GET("/api/tickets", { params: { query: { view, team, limit: "50", ...(pageParam ? { cursor: pageParam } : {}) } } }),
      ),
    getNextPageParam: (last) => last.next_cursor,
  });
}

export function useTicket(id: string | undefined) {
  return useQuery({
    queryKey: ["ticket", id],
    enabled: !!id,
    queryFn: () => must<TicketDetail>(api.GET("/api/tickets/{id}", { params: { path: { id: id! } } })),
  });
}

/** Follows the change feed while the console is open: views, counts and open
 * tickets reload as soon as a ticket changes; everything reloads after a
 * lost connection. Answers whether the feed is live. */
export function useLiveUpdates(): boolean {
  const client = useQueryClient();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    void follow(
      {
        fetchPage: (since, wait, signal) =>
          must<FeedPage>(
            api.GET("/api/changes", {
              params: { query: since === null ? { wait: String(wait) } : { since, wait: String(wait) } },
              signal,
            }),
          ),
        sleep: (ms, signal) =>
          new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            signal.addEventListener("abort", () => {
              clearTimeout(timer);
              resolve();
            });
          }),
        emit: (event) => {
          if (event.type === "status") setLive(event.live);
          else if (event.type === "resync") void client.invalidateQueries();
          else {
            void client.invalidateQueries({ queryKey: ["tickets"] });
            void client.invalidateQueries({ queryKey: ["counts"] });
            for (const change of event.changes) {
              void client.invalidateQueries({ queryKey: ["ticket", change.ticket_id] });
            }
          }
        },
      },
      controller.signal,
    );
    return () => controller.abort();
  }, [client]);
  return live;
}
