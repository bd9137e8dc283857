import { useState } from "react";
import { useQueries, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { api, download, must } from "../api/client";
import type { TicketPage } from "../api/types";
import { useNow } from "../lib/clock";
import { countdown, daysBetween, isoDay } from "../lib/format";
import { useCounts } from "../queries";
import { TableHead } from "./parts";

type Figures = Record<string, number | null>;
interface Report {
  overall: Figures & { by_day?: Figures[] };
  by_team: (Figures & { team: string })[];
  by_priority: (Figures & { priority: string })[];
  agents?: (Figures & { agent: string })[];
  rows?: (Figures & { agent: string })[];
}

const REFRESH_MS = 30_000;

function useReport(report: string, from: string, to: string, team: string) {
  return useQuery({
    queryKey: ["reports", report, from, to, team],
    refetchInterval: REFRESH_MS,
    queryFn: () =>
      must<Report>(
        api.GET("/api/reports/{report}", { params: { path: { report }, query: { from, to, ...(team ? { team } : {}) } } }),
      ),
  });
}

/** The lead dashboard: queues now, SLA today and over time, answers, CSAT,
 * escalations, messages and agents, refreshed live. */
export function Dashboard({ teams }: { teams: string[] }) {
  const { t } = useTranslation();
  const now = useNow();
  const today = isoDay(now);
  const [from, setFrom] = useState(isoDay(now - 6 * 86_400_000));
  const [to, setTo] = useState(today);
  const [team, setTeam] = useState("");
  const counts = useCounts();
  const summary = useReport("summary", from, to, team);
  const sla = useReport("sla", from, to, team);
  const todaySla = useReport("sla", today, today, team);
  const csat = useReport("csat", from, to, team);
  const messages = useReport("messages", from, to, team);
  const agents = useReport("agents", from, to, "");
  const days = daysBetween(from, to, 31);
  const perDay = useQueries({
    queries: days.map((day) => ({
      queryKey: ["reports", "sla", day, day, team],
      refetchInterval: REFRESH_MS,
      queryFn: () =>
        must<Report>(api.GET("/api/reports/{report}", { params: { path: { report: "sla" }, query: { from: day, to: day, ...(team ? { team } : {}) } } })),
    })),
  });
  const oldest = useQueries({
    queries: teams.map((teamId) => ({
      queryKey: ["oldest", "unassigned", teamId],
      refetchInterval: REFRESH_MS,
      queryFn: () => must<TicketPage>(api.GET("/api/tickets", { params: { query: { view: "unassigned", team: teamId, limit: "100" } } })),
    })),
  });

  async function exportCsv(report: string) {
    // The agents report is desk-wide: it takes no team.
    const query = new URLSearchParams({ from, to, format: "csv", ...(team && report !== "agents" ? { team } : {}) });
    const blob = await download(`/api/reports/${report}?${query}`, "text/csv");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = `${report}-${from}-${to}.csv`;
    link.click();
    URL.revokeObjectURL(link.href);
  }

  const s = summary.data?.overall ?? {};
  const c = csat.data?.overall ?? {};
  const m = messages.data?.overall ?? {};
  const compliance = days.map((day, i) => ({ day: day.slice(5), compliance: perDay[i].data?.overall.compliance_percent ?? null }));
  const scores = [1, 2, 3, 4, 5].map((n) => ({ score: String(n), count: c[`score_${n}`] ?? 0 }));
  const metrics = ["first_response", "next_response", "resolution"].map((metric) => ({
    metric: t(`metric.${metric}`),
    within: sla.data?.overall[`${metric}_within`] ?? 0,
    missed: sla.data?.overall[`${metric}_missed`] ?? 0,
  }));
  const byPriority = (sla.data?.by_priority ?? []).map((p) => ({
    priority: t(`priority.${p.priority}`, { defaultValue: p.priority }),
    first: p.first_response_average_minutes ?? 0,
    resolution: p.resolution_average_minutes ?? 0,
  }));
  const agentRows = agents.data?.agents ?? agents.data?.rows ?? [];
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? "—" : `${v}%`);

  return (
    <div className="dashboard">
      <h1>{t("dashboard.title")}</h1>
      <form className="range" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t("dashboard.from")}
          <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
        </label>
        <label>
          {t("dashboard.to")}
          <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} />
        </label>
        <label>
          {t("dashboard.team")}
          <select value={team} onChange={(e) => setTeam(e.target.value)}>
            <option value="">{t("dashboard.allTeams")}</option>
            {teams.map((x) => (
              <option key={x} value={x}>
                {x}
              </option>
            ))}
          </select>
        </label>
        {["summary", "sla", "csat", "messages", "agents"].map((report) => (
          <button key={report} type="button" onClick={() => void exportCsv(report)}>
            {t("dashboard.csv", { report })}
          </button>
        ))}
      </form>

      <section aria-labelledby="queues-title">
        <h2 id="queues-title">{t("dashboard.queues")}</h2>
        <table>
          <TableHead columns={[t("dashboard.team"), t("view.unassigned"), t("view.open"), t("view.at_risk"), t("dashboard.oldest")]} />
          <tbody>
            {teams.map((teamId, i) => {
              const waiting = oldest[i].data?.tickets ?? [];
              const first = waiting.reduce<number | null>((min, x) => Math.min(min ?? Infinity, x.last_customer_message_at_ms ?? x.created_at_ms), null);
              const row = counts.data?.teams[teamId];
              return (
                <tr key={teamId}>
                  <th scope="row">{teamId}</th>
                  <td>{row?.unassigned ?? "—"}</td>
                  <td>{row?.open ?? "—"}</td>
                  <td className={row?.at_risk ? "warning" : undefined}>{row?.at_risk ?? "—"}</td>
                  <td>{first === null ? "—" : countdown(now - first)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>

      <section className="tiles" aria-label={t("dashboard.figures")}>
        <Tile label={t("dashboard.breachesToday")} value={todaySla.data?.overall.breaches ?? 0} testId="breaches-today" />
        <Tile label={t("dashboard.warningsToday")} value={todaySla.data?.overall.warnings ?? 0} />
        <Tile label={t("dashboard.breachesRange")} value={sla.data?.overall.breaches ?? 0} testId="breaches-range" />
        <Tile label={t("dashboard.compliance")} value={pct(s.sla_compliance_percent)} />
        <Tile label={t("dashboard.botToHuman")} value={pct(s.bot_to_human_percent)} />
        <Tile label={t("dashboard.tier2To3")} value={pct(s.tier2_to_tier3_percent)} />
        <Tile label={t("dashboard.csat")} value={c.average ?? "—"} />
        <Tile label={t("dashboard.messagesPerTicket")} value={m.messages_per_human_ticket ?? "—"} />
        <Tile label={t("dashboard.billable")} value={m.billable ?? 0} />
      </section>

      <div className="charts">
        <Chart title={t("dashboard.complianceOverTime")}>
          <LineChart data={compliance}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="day" />
            <YAxis domain={[0, 100]} unit="%" />
            <Tooltip />
            <Line type="monotone" dataKey="compliance" stroke="#1d4ed8" connectNulls name={t("dashboard.compliance")} />
          </LineChart>
        </Chart>
        <Chart title={t("dashboard.withinMissed")}>
          <BarChart data={metrics}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="metric" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Legend />
            <Bar dataKey="within" stackId="a" fill="#15803d" name={t("dashboard.within")} />
            <Bar dataKey="missed" stackId="a" fill="#b91c1c" name={t("dashboard.missed")} />
          </BarChart>
        </Chart>
        <Chart title={t("dashboard.timesByPriority")}>
          <BarChart data={byPriority}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="priority" />
            <YAxis unit=" min" />
            <Tooltip />
            <Legend />
            <Bar dataKey="first" fill="#1d4ed8" name={t("metric.first_response")} />
            <Bar dataKey="resolution" fill="#7c3aed" name={t("metric.resolution")} />
          </BarChart>
        </Chart>
        <Chart title={t("dashboard.csatDistribution")}>
          <BarChart data={scores}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="score" />
            <YAxis allowDecimals={false} />
            <Tooltip />
            <Bar dataKey="count" fill="#b45309" name={t("dashboard.scores")} />
          </BarChart>
        </Chart>
      </div>

      <section aria-labelledby="agents-title">
        <h2 id="agents-title">{t("dashboard.agents")}</h2>
        <table>
          <TableHead
            columns={[
              t("dashboard.agent"),
              t("dashboard.firstResponses"),
              t("dashboard.avgFirstResponse"),
              t("dashboard.withinTarget"),
              t("dashboard.resolved"),
              t("dashboard.csat"),
            ]}
          />
          <tbody>
            {agentRows.map((a) => (
              <tr key={a.agent}>
                <th scope="row">{a.agent}</th>
                <td>{a.first_response_count ?? 0}</td>
                <td>{a.first_response_average_minutes ?? "—"}</td>
                <td>{pct(a.first_response_within_percent)}</td>
                <td>{a.resolved ?? 0}</td>
                <td>{a.csat_average ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </div>
  );
}

function Tile({ label, value, testId }: { label: string; value: number | string; testId?: string }) {
  return (
    <div className="tile">
      <span className="tile-value" data-testid={testId}>
        {value}
      </span>
      <span className="tile-label">{label}</span>
    </div>
  );
}

function Chart({ title, children }: { title: string; children: React.ReactElement }) {
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div className="chart-box">
        <ResponsiveContainer width="100%" height={220}>
          {children}
        </ResponsiveContainer>
      </div>
    </figure>
  );
}
