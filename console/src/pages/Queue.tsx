import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams, useSearchParams } from "react-router";
import { useTranslation } from "react-i18next";
import { useCommand } from "../actions";
import type { Me, Ticket } from "../api/types";
import { clockState, countdown } from "../lib/format";
import { useNow } from "../lib/clock";
import { useTickets, VIEWS, type View } from "../queries";
import { TicketPane } from "./Ticket";

export function Queue({ me }: { me: Me }) {
  const { t } = useTranslation();
  const { id } = useParams();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const view = (VIEWS as readonly string[]).includes(params.get("view") ?? "") ? (params.get("view") as View) : "mine";
  const team = params.get("team") ?? undefined;
  const list = useTickets(view, team);
  const tickets = useMemo(() => list.data?.pages.flatMap((page) => page.tickets) ?? [], [list.data]);
  const [selected, setSelected] = useState(0);
  const rows = useRef<(HTMLLIElement | null)[]>([]);
  const search = params.toString() ? `?${params}` : "";

  useEffect(() => {
    const at = tickets.findIndex((ticket) => ticket.id === id);
    if (at >= 0) setSelected(at);
  }, [id, tickets]);

  useCommand((command) => {
    if (tickets.length === 0) return;
    if (command === "next" || command === "previous") {
      const next = Math.max(0, Math.min(tickets.length - 1, selected + (command === "next" ? 1 : -1)));
      setSelected(next);
      rows.current[next]?.querySelector("a")?.focus();
    }
    if (command === "open" && tickets[selected]) void navigate(`/tickets/${tickets[selected].id}${search}`);
  });

  return (
    <div className={id ? "queue with-ticket" : "queue"}>
      <section className="list" aria-labelledby="list-title">
        <h1 id="list-title">
          {t(`view.${view}`)}
          {team ? ` · ${team}` : ""}
        </h1>
        {list.isError && <p role="alert">{String(list.error)}</p>}
        {list.data && tickets.length === 0 && <p className="empty">{t("list.empty")}</p>}
        <ul className="tickets" aria-label={t("list.label")}>
          {tickets.map((ticket, index) => (
            <li
              key={ticket.id}
              ref={(el) => {
                rows.current[index] = el;
              }}
              className={[index === selected ? "selected" : "", ticket.id === id ? "open" : ""].join(" ")}
            >
              <TicketRow ticket={ticket} to={`/tickets/${ticket.id}${search}`} current={ticket.id === id} onFocus={() => setSelected(index)} />
            </li>
          ))}
        </ul>
        {list.hasNextPage && (
          <button type="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
            {t("list.more")}
          </button>
        )}
      </section>
      {id && <TicketPane id={id} me={me} />}
    </div>
  );
}

function TicketRow({ ticket, to, current, onFocus }: { ticket: Ticket; to: string; current: boolean; onFocus: () => void }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const now = useNow();
  const due = ticket.sla?.clocks
    .filter((c): c is typeof c & { due_at_ms: number } => !c.breached_at_ms && c.running_since_ms !== null && !!c.due_at_ms)
    .sort((a, b) => a.due_at_ms - b.due_at_ms)[0];
  const state = due ? clockState(due, now) : null;
  return (
    <a
      href={`/console${to}`}
      aria-current={current ? "true" : undefined}
      onFocus={onFocus}
      onClick={(e) => {
        e.preventDefault();
        void navigate(to);
      }}
      data-testid={`row-${ticket.id}`}
    >
      <span className="row-top">
        <strong>{ticket.contact_name ?? t("customer.unnamed")}</strong>
        <span className={`badge priority-${ticket.priority}`}>{t(`priority.${ticket.priority}`)}</span>
        {ticket.customer_tier === "vip" && <span className="badge vip">VIP</span>}
      </span>
      <span className="row-bottom">
        <span>{ticket.id}</span>
        <span>
          {ticket.team} · {t(`status.${ticket.status}`)}
          {ticket.assignee ? ` · ${ticket.assignee}` : ""}
        </span>
        {due && state && (
          <span className={`clock ${state}`}>
            {t(`metric.${due.metric}`)} {countdown(due.due_at_ms - now)}
          </span>
        )}
      </span>
    </a>
  );
}
