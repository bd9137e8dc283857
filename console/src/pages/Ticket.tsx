import { useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { useTranslation } from "react-i18next";
import * as Dialog from "@radix-ui/react-dialog";
import { api, ApiError, ifMatch, must } from "../api/client";
import type { ApiErrorBody, MediaItem, Me, Presence, TicketDetail, TimelineEntry } from "../api/types";
import { useNow } from "../lib/clock";
import { clockState, countdown, fileSize } from "../lib/format";
import { whatChanged } from "../lib/changes";
import { useTicket } from "../queries";
import { Composer } from "./Composer";
import { TicketActions } from "./TicketActions";

/** Runs a ticket action with If-Match. A 412 where nothing an agent decides
 * on changed (a delivery, the agent's own message recorded) is retried once
 * with the new version; otherwise it opens the "this ticket changed" prompt. */
export function useTicketAction(detail: TicketDetail | undefined, me: string) {
  const client = useQueryClient();
  const [changed, setChanged] = useState<ApiErrorBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (call: (headers: Record<string, string>) => Promise<unknown>): Promise<boolean> => {
    if (!detail) return false;
    setError(null);
    const key = crypto.randomUUID();
    let version = detail.version;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await call({ ...ifMatch(version), "Idempotency-Key": `${key}-${version}` });
        await client.invalidateQueries({ queryKey: ["ticket", detail.ticket.id] });
        return true;
      } catch (e) {
        if (e instanceof ApiError && e.status === 412) {
          const newer = e.body.current?.version ?? e.body.current?.ticket?.version;
          if (attempt === 0 && newer !== undefined && whatChanged(detail.ticket, detail.timeline, e.body, me).length === 0) {
            version = newer;
            continue;
          }
          setChanged(e.body);
        } else setError(e instanceof Error ? e.message : String(e));
        return false;
      }
    }
    return false;
  };
  return { run, changed, clearChanged: () => setChanged(null), error, setError };
}

/** Tells the API the agent is on ticket `id` (every 15 seconds while open)
 * and answers who is on it now; the composer's typing updates it too. */
export function usePresence(id: string, activity: "viewing" | "typing") {
  return useQuery({
    queryKey: ["presence", id],
    refetchInterval: 15_000,
    refetchIntervalInBackground: true,
    queryFn: () => announce(id, activity),
  }).data;
}

export async function announce(id: string, activity: "viewing" | "typing"): Promise<Presence[]> {
  const answer = await must<{ present?: Presence[] }>(
    api.POST("/api/tickets/{id}/presence", { params: { path: { id } }, body: { activity } }),
  );
  return answer.present ?? [];
}

export function TicketPane({ id, me }: { id: string; me: Me }) {
  const { t } = useTranslation();
  const ticket = useTicket(id);
  const detail = ticket.data;
  const action = useTicketAction(detail, me.agent);

  // Presence: the agent is on this ticket, renewed while it is open (it
  // lasts 30 seconds); each answer says who else is on it.
  const present = usePresence(id, "viewing");

  // A failed refetch keeps the ticket on screen (and the draft in the composer).
  if (!detail) {
    if (ticket.isError) return <section className="ticket" role="alert">{String(ticket.error)}</section>;
    return <section className="ticket" aria-busy="true">{t("loading")}</section>;
  }
  const others = (present ?? detail.presence).filter((p) => p.agent !== me.agent);

  return (
    <section className="ticket" aria-labelledby="ticket-title">
      <header className="ticket-head">
        <h2 id="ticket-title">
          {detail.ticket.contact_name ?? t("customer.unnamed")} <small>{detail.ticket.id}</small>
        </h2>
        <p className="badges">
          <span className={`badge status-${detail.ticket.status}`} data-testid="ticket-status">
            {t(`status.${detail.ticket.status}`)}
          </span>
          <span className="badge">{detail.ticket.team} · {t("tier", { tier: detail.ticket.tier })}</span>
          <span className={`badge priority-${detail.ticket.priority}`}>{t(`priority.${detail.ticket.priority}`)}</span>
          <span className="badge" data-testid="assignee">
            {detail.ticket.assignee ? t("assignedTo", { agent: detail.ticket.assignee }) : t("unassigned")}
          </span>
          {(detail.ticket.tags ?? []).map((tag) => (
            <span key={tag} className="badge tag">#{tag}</span>
          ))}
        </p>
        {others.length > 0 && (
          <p className="collision" role="status" data-testid="collision">
            {others.map((p) => t(p.activity === "typing" ? "presence.typing" : "presence.viewing", { agent: p.agent })).join(" · ")}
          </p>
        )}
        <Clocks detail={detail} />
        <TicketActions detail={detail} me={me} action={action} />
        {action.error && (
          <p role="alert" className="error">
            {action.error}
          </p>
        )}
      </header>
      <div className="ticket-body">
        <Timeline detail={detail} />
        <SidePanel detail={detail} />
      </div>
      <Composer detail={detail} me={me} action={action} />
      <ChangedPrompt detail={detail} me={me.agent} body={action.changed} onClose={action.clearChanged} />
    </section>
  );
}

function Clocks({ detail }: { detail: TicketDetail }) {
  const { t } = useTranslation();
  const now = useNow();
  const clocks = detail.ticket.sla?.clocks ?? [];
  const window = detail.window;
  return (
    <dl className="clocks">
      {clocks.map((clock) => {
        const state = clockState(clock, now);
        return (
          <div key={clock.metric} className={`clock ${state}`} data-testid={`clock-${clock.metric}`}>
            <dt>{t(`metric.${clock.metric}`)}</dt>
            <dd>
              {state === "stopped" || !clock.due_at_ms ? t("clock.stopped") : countdown(clock.due_at_ms - now)}
              <span className="visually-hidden"> ({t(`clock.${state}`)})</span>
            </dd>
          </div>
        );
      })}
      <div className={`clock ${window.open ? "ok" : "breached"}`} data-testid="window">
        <dt>{t("window.title")}</dt>
        <dd>{window.open && window.closes_at_ms ? countdown(window.closes_at_ms - now) : t("window.closed")}</dd>
      </div>
    </dl>
  );
}

const TICKS: Record<string, string> = { sent: "✓", delivered: "✓✓", read: "✓✓", failed: "✗", accepted: "…" };

function Timeline({ detail }: { detail: TicketDetail }) {
  const { t } = useTranslation();
  const media = new Map(detail.media.map((m) => [m.wamid, m]));
  return (
    <ol className="timeline" aria-label={t("timeline.label")}>
      {detail.timeline.map((entry) => (
        <li key={entry.id} className={`entry ${entry.direction} author-${entry.author.type}`}>
          <EntryHead entry={entry} />
          {entry.withdrawn ? (
            <p className="withdrawn">{t("timeline.withdrawn")}</p>
          ) : (
            <p className="summary">{entry.summary}</p>
          )}
          {entry.kind === "edit" && <p className="meta">{t("timeline.edited")}</p>}
          {media.get(entry.id) && entry.direction === "inbound" && <MediaView ticketId={detail.ticket.id} item={media.get(entry.id)!} />}
          {entry.delivery && (
            <p className={`delivery ${entry.delivery}`} title={entry.delivery_error ?? undefined}>
              <span aria-hidden="true">{TICKS[entry.delivery] ?? ""}</span> {t(`delivery.${entry.delivery}`, { defaultValue: entry.delivery })}
              {entry.delivery_error ? ` — ${entry.delivery_error}` : ""}
            </p>
          )}
        </li>
      ))}
    </ol>
  );
}

function EntryHead({ entry }: { entry: TimelineEntry }) {
  const { t } = useTranslation();
  const who = entry.author.name ?? t(`author.${entry.author.type}`, { defaultValue: entry.author.type });
  return (
    <p className="entry-head">
      <span className="who">{entry.direction === "internal" ? t("timeline.note", { who }) : who}</span>
      <time dateTime={new Date(entry.at_ms).toISOString()}>{new Date(entry.at_ms).toLocaleString()}</time>
    </p>
  );
}

function MediaView({ ticketId, item }: { ticketId: string; item: MediaItem }) {
  const { t } = useTranslation();
  const [revealed, setRevealed] = useState(false);
  const [full, setFull] = useState(false);
  const link = useQuery({
    queryKey: ["media", ticketId, item.wamid],
    enabled: !item.refused,
    staleTime: 4 * 60_000,
    queryFn: () =>
      must<{ url: string; warning: string | null; mime: string }>(
        api.GET("/api/tickets/{id}/media/{wamid}", { params: { path: { id: ticketId, wamid: item.wamid } } }),
      ),
  });
  if (item.refused) return <p className="media refused">{t("media.refused", { reason: item.refused })}</p>;
  if (!link.data) return <p className="media" aria-busy="true">{t("loading")}</p>;
  const flagged = item.hidden || !!link.data.warning || (item.vision?.moderation.length ?? 0) > 0;
  const blurred = flagged && !revealed;
  const url = link.data.url;
  let body;
  if (item.kind === "image" || item.kind === "sticker") {
    body = (
      <button type="button" className="thumb" onClick={() => (blurred ? setRevealed(true) : setFull(true))} aria-label={blurred ? t("media.reveal") : t("media.open")}>
        <img src={url} alt={item.caption ?? t("media.photo")} className={blurred ? "blurred" : undefined} data-testid="media-image" />
      </button>
    );
  } else if (item.kind === "audio" || item.kind === "voice") {
    body = <audio controls src={url} aria-label={t("media.audio")} />;
  } else if (item.kind === "video") {
    body = blurred ? (
      <button type="button" onClick={() => setRevealed(true)}>{t("media.reveal")}</button>
    ) : (
      <video controls src={url} className="video" aria-label={t("media.video")} />
    );
  } else {
    body = (
      <a href={url} target="_blank" rel="noopener noreferrer">
        {t("media.download", { size: fileSize(item.size) })}
      </a>
    );
  }
  return (
    <figure className="media">
      {flagged && <figcaption className="warning">{t("media.flagged")}</figcaption>}
      {body}
      <Dialog.Root open={full} onOpenChange={setFull}>
        <Dialog.Portal>
          <Dialog.Overlay className="overlay" />
          <Dialog.Content className="dialog wide">
            <Dialog.Title>{item.caption ?? t("media.photo")}</Dialog.Title>
            <Dialog.Description className="visually-hidden">{t("media.full")}</Dialog.Description>
            <img src={url} alt={item.caption ?? t("media.photo")} className="full" />
            <Dialog.Close className="button">{t("close")}</Dialog.Close>
          </Dialog.Content>
        </Dialog.Portal>
      </Dialog.Root>
    </figure>
  );
}

function SidePanel({ detail }: { detail: TicketDetail }) {
  const { t } = useTranslation();
  const ticket = detail.ticket;
  const context = ticket.context;
  const customer = detail.customer;
  const history = useQuery({
    queryKey: ["history", customer.id],
    queryFn: () =>
      must<{ tickets: { id: string; status: string; created_at_ms: number }[] }>(
        api.GET("/api/customers/{id}/tickets", { params: { path: { id: customer.id } } }),
      ),
  });
  return (
    <aside className="side-panel" aria-label={t("panel.label")}>
      <section aria-labelledby="customer-title">
        <h3 id="customer-title">{t("panel.customer")}</h3>
        <dl>
          <dt>{t("customer.name")}</dt>
          <dd>{ticket.contact_name ?? "—"}</dd>
          <dt>{t("customer.username")}</dt>
          <dd>{customer.username ? `@${customer.username}` : "—"}</dd>
          <dt>{t("customer.phone")}</dt>
          <dd data-testid="masked-phone">{customer.phone_withheld ? t("customer.withheld") : (customer.phone ?? "—")}</dd>
          <dt>{t("customer.tier")}</dt>
          <dd>{(detail.customer_profile?.tier ?? ticket.customer_tier) === "vip" ? "VIP" : t("customer.standard")}</dd>
          <dt>{t("customer.language")}</dt>
          <dd>{detail.customer_profile?.language ?? context.language ?? "—"}</dd>
          <dt>{t("customer.consent")}</dt>
          <dd>{detail.customer_profile?.consent ? t(`consent.${detail.customer_profile.consent.status}`) : "—"}</dd>
        </dl>
        <h4>{t("customer.history")}</h4>
        <ul className="history">
          {history.data?.tickets.map((h) => (
            <li key={h.id}>
              <Link to={`/tickets/${h.id}`}>{h.id}</Link> · {t(`status.${h.status}`)} · {new Date(h.created_at_ms).toLocaleDateString()}
            </li>
          ))}
        </ul>
      </section>
      <section aria-labelledby="bot-title" data-testid="bot-context">
        <h3 id="bot-title">{t("panel.bot")}</h3>
        <dl>
          <dt>{t("bot.intent")}</dt>
          <dd>{context.intent ?? "—"}</dd>
          <dt>{t("bot.category")}</dt>
          <dd>{context.category ?? "—"}</dd>
          <dt>{t("bot.order")}</dt>
          <dd>{ticket.order_number ?? "—"}</dd>
          <dt>{t("bot.language")}</dt>
          <dd>{context.language ?? "—"}</dd>
        </dl>
        {ticket.escalations.map((e) => (
          <div key={e.at_ms} className="escalation">
            <p>
              <strong>{t("bot.escalated")}</strong> {new Date(e.at_ms).toLocaleString()}
            </p>
            <ul>
              {e.triggers.map((trigger) => (
                <li key={trigger.name + trigger.detail}>
                  <code>{trigger.name}</code>: {trigger.detail}
                </li>
              ))}
            </ul>
          </div>
        ))}
        {context.frustration && context.frustration.total > 0 && (
          <p className="frustration">
            {t("bot.frustration", { total: context.frustration.total.toFixed(1) })}:{" "}
            {(["caps", "lexicon", "punctuation", "repeat"] as const)
              .filter((part) => context.frustration![part] > 0)
              .map((part) => `${t(`frustration.${part}`)} ${context.frustration![part].toFixed(1)}`)
              .join(", ")}
            {context.frustration.lexicon_words?.length ? ` (${context.frustration.lexicon_words.join(", ")})` : ""}
          </p>
        )}
      </section>
      {detail.media.length > 0 && (
        <section aria-labelledby="analysis-title" data-testid="analysis">
          <h3 id="analysis-title">{t("panel.analysis")}</h3>
          {detail.media.map((m) => (
            <Analysis key={m.wamid} item={m} />
          ))}
        </section>
      )}
    </aside>
  );
}

function Analysis({ item }: { item: MediaItem }) {
  const { t } = useTranslation();
  return (
    <div className="analysis">
      <p>
        <strong>{t(`kind.${item.kind}`, { defaultValue: item.kind })}</strong> · {item.mime} · {fileSize(item.size)}
      </p>
      {item.quality && (
        <p>
          {t("analysis.quality")}: {item.quality.width}×{item.quality.height}
          {item.quality.problems.length > 0 && ` — ${item.quality.problems.map((p) => t(`problem.${p}`, { defaultValue: p })).join(", ")}`}
        </p>
      )}
      {item.vision && item.vision.labels.length > 0 && (
        <p>
          {t("analysis.labels")}: {item.vision.labels.map((l) => `${l.name} (${l.confidence.toFixed(0)}%)`).join(", ")}
        </p>
      )}
      {item.vision && item.vision.text.length > 0 && (
        <p>
          {t("analysis.text")}: “{item.vision.text.join(" ")}”
        </p>
      )}
      {item.vision && item.vision.moderation.length > 0 && (
        <p className="warning">
          {t("analysis.moderation")}: {item.vision.moderation.map((l) => l.name).join(", ")}
        </p>
      )}
      {item.exif && (item.exif.edited || item.exif.missing_camera_data) && (
        <p>
          {t("analysis.exif")}: {item.exif.edited ? t("analysis.edited", { software: item.exif.software ?? "?" }) : t("analysis.noCamera")}
        </p>
      )}
      {item.duplicates.map((d, i) => {
        const other = d.ticket_id ?? d.ticket;
        return (
          <p key={i} className="warning">
            {t("analysis.duplicate")} {other ? <Link to={`/tickets/${other}`}>{other}</Link> : null}
          </p>
        );
      })}
      {item.signals.length > 0 && <p>{item.signals.join(", ")}</p>}
      {item.partial.length > 0 && <p className="meta">{t("analysis.partial")}</p>}
    </div>
  );
}

/** 412: the ticket changed since it was read; say what changed. */
function ChangedPrompt({ detail, me, body, onClose }: { detail: TicketDetail; me: string; body: ApiErrorBody | null; onClose: () => void }) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const changes = whatChanged(detail.ticket, detail.timeline, body, me).map((change) => {
    switch (change.kind) {
      case "status":
        return t("changed.status", { from: t(`status.${change.from}`), to: t(`status.${change.to}`) });
      case "assignee":
        return t("changed.assignee", { agent: change.to ?? t("unassigned") });
      case "team":
        return t("changed.team", { team: change.to });
      case "priority":
        return t("changed.priority", { priority: t(`priority.${change.to}`) });
      case "tags":
        return t("action.tags");
      case "entry":
        return `${change.entry.author.name ?? t(`author.${change.entry.author.type}`, { defaultValue: change.entry.author.type })}: ${change.entry.summary}`;
    }
  });
  return (
    <Dialog.Root open={!!body} onOpenChange={(open) => !open && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog" data-testid="changed">
          <Dialog.Title>{t("changed.title")}</Dialog.Title>
          <Dialog.Description>{t("changed.description")}</Dialog.Description>
          <ul>
            {changes.map((c, i) => (
              <li key={i}>{c}</li>
            ))}
          </ul>
          <button
            type="button"
            className="primary"
            onClick={() => {
              void client.invalidateQueries({ queryKey: ["ticket", detail.ticket.id] });
              onClose();
            }}
          >
            {t("changed.reload")}
          </button>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
