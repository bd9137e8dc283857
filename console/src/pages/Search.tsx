import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";
import { api, must } from "../api/client";
import type { Customer, Ticket } from "../api/types";

/** Search by phone, business-scoped id, @username, name, ticket id or order number. */
export function SearchBox() {
  const { t } = useTranslation();
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const results = useQuery({
    queryKey: ["search", query],
    enabled: query.length > 1,
    queryFn: () => must<{ customers: Customer[]; tickets: Ticket[]; by: string }>(api.GET("/api/search", { params: { query: { q: query } } })),
  });
  return (
    <div className="search">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(text.trim());
        }}
      >
        <label>
          <span className="visually-hidden">{t("search.label")}</span>
          <input
            type="search"
            value={text}
            placeholder={t("search.placeholder")}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={(e) => e.key === "Escape" && setQuery("")}
          />
        </label>
      </form>
      {query && (
        <div className="results" role="region" aria-label={t("search.results")}>
          {results.isError && <p role="alert">{String(results.error)}</p>}
          {results.data && results.data.tickets.length === 0 && <p>{t("search.none")}</p>}
          <ul>
            {results.data?.tickets.map((ticket) => (
              <li key={ticket.id}>
                <Link to={`/tickets/${ticket.id}`} onClick={() => setQuery("")}>
                  {ticket.id} · {ticket.contact_name ?? ticket.customer} · {t(`status.${ticket.status}`)}
                </Link>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => setQuery("")}>
            {t("close")}
          </button>
        </div>
      )}
    </div>
  );
}
