import { useEffect, useRef, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, ApiError, must } from "../api/client";
import type { Canned, Me, Template, TicketDetail } from "../api/types";
import { useCommand } from "../actions";
import { fileSize, mentions, placeholders } from "../lib/format";
import { announce, type useTicketAction } from "./Ticket";

type Action = ReturnType<typeof useTicketAction>;
type Mode = "reply" | "note" | "template";

interface Upload {
  id: string;
  name: string;
  size: number;
  state: "uploading" | "ready" | "failed";
  error?: string;
}

/** Reply, template, attachment or internal note: the bottom of a ticket. */
export function Composer({ detail, action }: { detail: TicketDetail; me: Me; action: Action }) {
  const { t } = useTranslation();
  const id = detail.ticket.id;
  const client = useQueryClient();
  const [mode, setMode] = useState<Mode>("reply");
  const [text, setText] = useState("");
  const [canned, setCanned] = useState(false);
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const lastTyping = useRef(0);
  const windowOpen = detail.window.open;
  const resolved = detail.ticket.status === "resolved";

  // The draft of each ticket is kept in this tab while the agent looks elsewhere.
  const [cannedMissing, setCannedMissing] = useState<string[]>([]);
  useEffect(() => {
    setText(sessionStorage.getItem(`helpdesk.draft.${id}`) ?? "");
    setUploads([]);
    setSent(null);
    setCannedMissing([]);
  }, [id]);
  useEffect(() => {
    if (text) sessionStorage.setItem(`helpdesk.draft.${id}`, text);
    else sessionStorage.removeItem(`helpdesk.draft.${id}`);
  }, [id, text]);

  useCommand((command) => {
    if (command === "reply" || command === "note") {
      setMode(command);
      box.current?.focus();
    }
    if (command === "canned") setCanned(true);
    if (command === "escape") setCanned(false);
  });

  const typing = () => {
    const now = Date.now();
    if (now - lastTyping.current < 10_000) return;
    lastTyping.current = now;
    void announce(id, "typing").then((present) => client.setQueryData(["presence", id], present));
  };

  async function attach(files: FileList | File[]) {
    for (const file of Array.from(files)) {
      const key = `${file.name}-${Date.now()}`;
      setUploads((u) => [...u, { id: key, name: file.name, size: file.size, state: "uploading" }]);
      try {
        const upload = await must<{ id: string; upload: { url: string; method: string; headers?: Record<string, string> } }>(
          api.POST("/api/tickets/{id}/attachments", {
            params: { path: { id } },
            body: { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size },
          }),
        );
        const put = await fetch(upload.upload.url, {
          method: upload.upload.method || "PUT",
          headers: upload.upload.headers ?? { "Content-Type": file.type || "application/octet-stream" },
          body: file,
        });
        if (!put.ok) throw new Error(`upload: HTTP ${put.status}`);
        setUploads((u) => u.map((x) => (x.id === key ? { ...x, id: upload.id, state: "ready" } : x)));
      } catch (e) {
        setUploads((u) => u.map((x) => (x.id === key ? { ...x, state: "failed", error: e instanceof Error ? e.message : String(e) } : x)));
      }
    }
  }

  // Replies and notes add to the ticket whatever its version (no If-Match):
  // the tickets function still refuses a reply to a resolved ticket or, out
  // of the window, anything but a template. Each part is dropped from the
  // composer once the API accepted it, so a retry never sends it twice.
  async function post(call: () => Promise<unknown>): Promise<boolean> {
    action.setError(null);
    try {
      await call();
      return true;
    } catch (e) {
      action.setError(e instanceof ApiError ? `${e.body.code}: ${e.message}` : String(e));
      return false;
    }
  }

  async function send() {
    const body = text.trim();
    const key = () => ({ "Idempotency-Key": crypto.randomUUID() });
    if (mode === "note") {
      if (!body) return;
      if (await post(() => must(api.POST("/api/tickets/{id}/notes", { params: { path: { id }, header: key() }, body: { text: body } })))) {
        setText("");
        setSent(t("composer.noteSaved"));
      }
      return;
    }
    // One message per file (the text is the first file's caption), else the text alone.
    const ready = uploads.filter((u) => u.state === "ready");
    let caption = body || undefined;
    for (const upload of ready) {
      const ok = await post(() =>
        must(api.POST("/api/tickets/{id}/reply", { params: { path: { id }, header: key() }, body: { attachment: { id: upload.id, caption } } })),
      );
      if (!ok) return;
      setUploads((all) => all.filter((u) => u.id !== upload.id));
      if (caption) {
        caption = undefined;
        setText("");
      }
    }
    if (ready.length === 0) {
      if (!body) return;
      if (!(await post(() => must(api.POST("/api/tickets/{id}/reply", { params: { path: { id }, header: key() }, body: { text: body } }))))) return;
      setText("");
    }
    setCannedMissing([]);
    setSent(t("composer.sent"));
  }

  // A canned response's placeholders that are still in the text block sending; braces the agent typed do not.
  const missing = mode === "reply" ? placeholders(text).filter((name) => cannedMissing.includes(name)) : [];
  const noted = mode === "note" ? mentions(text) : [];

  if (resolved) return <p className="composer closed">{t("composer.resolved")}</p>;

  return (
    <section
      className={`composer ${mode} ${dragging ? "dragging" : ""}`}
      aria-label={t("composer.label")}
      onDragOver={(e) => {
        if (mode !== "reply") return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        if (mode === "reply" && e.dataTransfer.files.length) void attach(e.dataTransfer.files);
      }}
    >
      <div className="tabs" role="tablist" aria-label={t("composer.mode")}>
        <button type="button" role="tab" aria-selected={mode === "reply"} onClick={() => setMode("reply")} aria-keyshortcuts="R">
          {t("composer.reply")}
        </button>
        <button type="button" role="tab" aria-selected={mode === "note"} onClick={() => setMode("note")} aria-keyshortcuts="N" data-testid="note-mode">
          {t("composer.note")}
        </button>
        <button type="button" role="tab" aria-selected={mode === "template" || (mode === "reply" && !windowOpen)} onClick={() => setMode("template")}>
          {t("composer.template")}
        </button>
      </div>
      <button type="button" className="canned-toggle" onClick={() => setCanned((c) => !c)} aria-expanded={canned} aria-keyshortcuts="/" data-testid="canned-button">
        {t("composer.canned")}
      </button>
      {canned && (
        <CannedPicker
          ticketId={id}
          onPick={(c) => {
            setText(c.text ?? c.template);
            setCannedMissing(c.text ? [] : placeholders(c.template));
            setCanned(false);
            setMode("reply");
            box.current?.focus();
          }}
          onClose={() => setCanned(false)}
        />
      )}
      {mode === "template" || (mode === "reply" && !windowOpen) ? (
        <TemplateForm detail={detail} action={action} onSent={() => setSent(t("composer.sent"))} windowOpen={windowOpen} />
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void send();
          }}
        >
          <label>
            <span className="visually-hidden">{mode === "note" ? t("composer.note") : t("composer.reply")}</span>
            <textarea
              ref={box}
              rows={3}
              value={text}
              data-testid="composer-text"
              placeholder={mode === "note" ? t("composer.notePlaceholder") : t("composer.replyPlaceholder")}
              onChange={(e) => {
                setText(e.target.value);
                setSent(null);
                if (mode === "reply") typing();
              }}
              onPaste={(e) => {
                if (mode === "reply" && e.clipboardData.files.length) {
                  e.preventDefault();
                  void attach(e.clipboardData.files);
                }
              }}
              onKeyDown={(e) => {
                if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void send();
                }
              }}
            />
          </label>
          {missing.length > 0 && <p className="warning">{t("composer.missing", { names: missing.join(", ") })}</p>}
          {noted.length > 0 && <p className="meta">{t("composer.mentions", { names: noted.map((n) => `@${n}`).join(", ") })}</p>}
          {uploads.length > 0 && (
            <ul className="uploads">
              {uploads.map((u) => (
                <li key={u.id} className={u.state}>
                  {u.name} · {fileSize(u.size)} · {t(`upload.${u.state}`)}
                  {u.error ? ` (${u.error})` : ""}
                  <button type="button" onClick={() => setUploads((all) => all.filter((x) => x.id !== u.id))} aria-label={t("upload.remove", { name: u.name })}>
                    ×
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="buttons">
            {mode === "reply" && (
              <label className="button file">
                {t("composer.attach")}
                <input type="file" multiple className="visually-hidden" data-testid="attach" onChange={(e) => e.target.files && void attach(e.target.files)} />
              </label>
            )}
            <button
              type="submit"
              className="primary"
              data-testid="send"
              disabled={missing.length > 0 || uploads.some((u) => u.state === "uploading")}
            >
              {mode === "note" ? t("composer.saveNote") : t("composer.send")}
            </button>
            <span role="status" aria-live="polite">
              {sent}
            </span>
          </div>
        </form>
      )}
    </section>
  );
}

function CannedPicker({ ticketId, onPick, onClose }: { ticketId: string; onPick: (c: Canned) => void; onClose: () => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const list = useQuery({
    queryKey: ["canned", ticketId],
    queryFn: () => must<{ responses: Canned[] }>(api.GET("/api/canned", { params: { query: { ticket: ticketId } } })),
  });
  const shown = (list.data?.responses ?? []).filter(
    (c) => !q || c.title.toLowerCase().includes(q.toLowerCase()) || c.tags.some((tag) => tag.includes(q.toLowerCase())),
  );
  return (
    <div className="canned" role="dialog" aria-label={t("composer.canned")}>
      <input
        autoFocus
        type="search"
        aria-label={t("canned.filter")}
        placeholder={t("canned.filter")}
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Escape") onClose();
          if (e.key === "Enter" && shown[0]) {
            e.preventDefault();
            onPick(shown[0]);
          }
        }}
      />
      <ul>
        {shown.map((c) => (
          <li key={c.id}>
            <button type="button" onClick={() => onPick(c)} data-testid={`canned-${c.id}`}>
              <strong>{c.title}</strong>
              <span>{c.text ?? c.template}</span>
              {c.missing.length > 0 && <span className="warning">{t("composer.missing", { names: c.missing.join(", ") })}</span>}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function TemplateForm({ detail, action, onSent, windowOpen }: { detail: TicketDetail; action: Action; onSent: () => void; windowOpen: boolean }) {
  const { t } = useTranslation();
  const id = detail.ticket.id;
  const list = useQuery({
    queryKey: ["templates", id],
    queryFn: () => must<{ templates: Template[] }>(api.GET("/api/templates", { params: { query: { ticket: id } } })),
  });
  const templates = list.data?.templates ?? [];
  const [chosen, setChosen] = useState(0);
  const [params, setParams] = useState<string[]>([]);
  const template = templates[chosen];
  return (
    <form
      className="template-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!template) return;
        void action
          .run((headers) =>
            must(
              api.POST("/api/tickets/{id}/reply", {
                params: { path: { id }, header: headers },
                body: { template: { name: template.name, language: template.language, parameters: params.slice(0, template.parameters) } },
              }),
            ),
          )
          .then((ok) => ok && onSent());
      }}
    >
      {!windowOpen && <p className="warning">{t("template.windowClosed")}</p>}
      <label>
        {t("template.choose")}
        <select
          value={chosen}
          onChange={(e) => {
            setChosen(Number(e.target.value));
            setParams([]);
          }}
        >
          {templates.map((tpl, i) => (
            <option key={`${tpl.name}-${tpl.language}`} value={i}>
              {tpl.name} ({tpl.language})
            </option>
          ))}
        </select>
      </label>
      {template && <p className="preview">{template.body}</p>}
      {template &&
        Array.from({ length: template.parameters }, (_, i) => (
          <label key={i}>
            {t("template.parameter", { n: i + 1 })}
            <input required value={params[i] ?? ""} onChange={(e) => setParams((p) => Object.assign([...p], { [i]: e.target.value }))} />
          </label>
        ))}
      <button type="submit" className="primary">
        {t("template.send")}
      </button>
    </form>
  );
}
