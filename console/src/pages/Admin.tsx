import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { FormDialog, TableHead } from "./parts";
import { Link } from "react-router";
import { api, download, must } from "../api/client";
import { useNow } from "../lib/clock";
import { isoDay } from "../lib/format";

interface AuditRecord {
  at_ms: number;
  agent: string;
  role: string;
  action: string;
  ticket?: string | null;
  status: number;
  request_id: string;
}

/** Admins: the audit trail, messages that named no customer, and a
 * customer's export and erasure. */
export function Admin() {
  const { t } = useTranslation();
  const now = useNow();
  const [from, setFrom] = useState(isoDay(now - 7 * 86_400_000));
  const [to, setTo] = useState(isoDay(now));
  const [agent, setAgent] = useState("");
  const [ticket, setTicket] = useState("");
  // The filters apply when submitted: every read of the trail is itself audited.
  const [applied, setApplied] = useState({ from, to, agent, ticket });
  const audit = useQuery({
    queryKey: ["audit", applied],
    queryFn: () =>
      must<{ records: AuditRecord[] }>(
        api.GET("/api/audit", {
          params: {
            query: {
              from: applied.from,
              to: applied.to,
              ...(applied.agent ? { agent: applied.agent } : {}),
              ...(applied.ticket ? { ticket: applied.ticket } : {}),
            },
          },
        }),
      ),
  });
  const unattributed = useQuery({
    queryKey: ["unattributed", applied.from, applied.to],
    queryFn: () =>
      must<{ messages: { received_at_ms: number; reason: string; message_type: string; wamid: string; raw: unknown }[] }>(
        api.GET("/api/admin/unattributed", { params: { query: { from: applied.from, to: applied.to } } }),
      ),
  });
  return (
    <div className="admin">
      <h1>{t("admin.title")}</h1>
      <form
        className="range"
        onSubmit={(e) => {
          e.preventDefault();
          setApplied({ from, to, agent, ticket });
        }}
      >
        <label>
          {t("dashboard.from")}
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t("dashboard.to")}
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          {t("dashboard.agent")}
          <input value={agent} onChange={(e) => setAgent(e.target.value.trim())} />
        </label>
        <label>
          {t("admin.ticket")}
          <input value={ticket} onChange={(e) => setTicket(e.target.value.trim())} />
        </label>
        <button type="submit">{t("admin.apply")}</button>
      </form>
      <Privacy />
      <section aria-labelledby="audit-title">
        <h2 id="audit-title">{t("admin.audit")}</h2>
        {audit.isError && <p role="alert">{String(audit.error)}</p>}
        <table data-testid="audit">
          <TableHead columns={[t("admin.when"), t("dashboard.agent"), t("admin.action"), t("admin.ticket"), t("admin.status")]} />
          <tbody>
            {(audit.data?.records ?? [])
              .slice(-200)
              .reverse()
              .map((r) => (
                <tr key={r.request_id + r.action}>
                  <td>{new Date(r.at_ms).toLocaleString()}</td>
                  <td>
                    {r.agent} ({t(`role.${r.role}`, { defaultValue: r.role })})
                  </td>
                  <td>{r.action}</td>
                  <td>{r.ticket ? <Link to={`/tickets/${r.ticket}`}>{r.ticket}</Link> : "—"}</td>
                  <td>{r.status}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="unattributed-title">
        <h2 id="unattributed-title">{t("admin.unattributed")}</h2>
        {unattributed.data?.messages.length === 0 && <p>{t("admin.noUnattributed")}</p>}
        <ul className="unattributed">
          {unattributed.data?.messages.map((m, i) => (
            <li key={m.wamid || i}>
              <time>{new Date(m.received_at_ms).toLocaleString()}</time> {m.message_type}: {m.reason}
              <details>
                <summary>{t("admin.payload")}</summary>
                <pre>{JSON.stringify(m.raw, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function Privacy() {
  const { t } = useTranslation();
  const [customer, setCustomer] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [typed, setTyped] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const id = customer.trim();

  async function exportCustomer() {
    setMessage(null);
    try {
      const blob = await download(`/api/customers/${encodeURIComponent(id)}/export`, "application/json");
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = `customer-${id}.json`;
      link.click();
      URL.revokeObjectURL(link.href);
      setMessage(t("admin.exported"));
    } catch (e) {
      setMessage(String(e));
    }
  }

  async function erase(): Promise<boolean> {
    try {
      await must(api.DELETE("/api/customers/{id}", { params: { path: { id }, header: { "Idempotency-Key": crypto.randomUUID() } } }));
      setMessage(t("admin.erased", { customer: id }));
    } catch (e) {
      setMessage(String(e));
    }
    return true;
  }

  return (
    <section aria-labelledby="privacy-title">
      <h2 id="privacy-title">{t("admin.privacy")}</h2>
      <p>{t("admin.privacyHelp")}</p>
      <label>
        {t("admin.customer")}
        <input value={customer} onChange={(e) => setCustomer(e.target.value)} data-testid="privacy-customer" />
      </label>
      <div className="buttons">
        <button type="button" disabled={!id} onClick={() => void exportCustomer()}>
          {t("admin.export")}
        </button>
        <button type="button" className="danger" disabled={!id} onClick={() => setConfirming(true)} data-testid="erase">
          {t("admin.erase")}
        </button>
      </div>
      <p role="status" aria-live="polite" data-testid="privacy-message">
        {message}
      </p>
      <FormDialog
        open={confirming}
        onClose={() => {
          setConfirming(false);
          setTyped("");
        }}
        title={t("admin.eraseTitle")}
        description={t("admin.eraseWarning", { customer: id })}
        submit={t("admin.erase")}
        danger
        disabled={typed.trim() !== id}
        onSubmit={erase}
      >
        <label>
          {t("admin.typeToConfirm", { customer: id })}
          <input value={typed} onChange={(e) => setTyped(e.target.value)} data-testid="erase-confirm" />
        </label>
      </FormDialog>
    </section>
  );
}
