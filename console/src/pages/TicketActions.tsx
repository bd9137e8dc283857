import { useRef, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { api, must } from "../api/client";
import type { Me, Priority, TicketDetail } from "../api/types";
import { useCommand } from "../actions";
import type { useTicketAction } from "./Ticket";
import { FormDialog } from "./parts";

const PRIORITIES: Priority[] = ["low", "normal", "high", "urgent"];
type Action = ReturnType<typeof useTicketAction>;

export function TicketActions({ detail, me, action }: { detail: TicketDetail; me: Me; action: Action }) {
  const { t } = useTranslation();
  const ticket = detail.ticket;
  const id = ticket.id;
  const path = { path: { id } };
  const [dialog, setDialog] = useState<"transfer" | "assign" | "tags" | null>(null);
  const priorityRef = useRef<HTMLSelectElement>(null);
  const resolved = ticket.status === "resolved";
  const mine = ticket.assignee === me.agent;

  const claim = () => action.run((headers) => must(api.POST("/api/tickets/{id}/claim", { params: { ...path, header: headers } })));
  const resolve = () => action.run((headers) => must(api.POST("/api/tickets/{id}/resolve", { params: { ...path, header: headers } })));
  const handBack = () => action.run((headers) => must(api.POST("/api/tickets/{id}/hand-back", { params: { ...path, header: headers } })));

  useCommand((command) => {
    if (command === "claim" && !resolved && !mine) void claim();
    if (command === "resolve" && !resolved) void resolve();
    if (command === "hand_back" && !resolved) void handBack();
    if (command === "transfer") setDialog("transfer");
    if (command === "assign" && me.role !== "agent") setDialog("assign");
    if (command === "tags") setDialog("tags");
    if (command === "priority") priorityRef.current?.focus();
  });

  return (
    <div className="actions" role="toolbar" aria-label={t("actions.label")}>
      {!resolved && !mine && (
        <button type="button" className="primary" onClick={() => void claim()} aria-keyshortcuts="A" data-testid="claim">
          {t("action.claim")}
        </button>
      )}
      {!resolved && (
        <button type="button" onClick={() => void resolve()} aria-keyshortcuts="E" data-testid="resolve">
          {t("action.resolve")}
        </button>
      )}
      {resolved && (
        <button
          type="button"
          onClick={() => void action.run((headers) => must(api.POST("/api/tickets/{id}/reopen", { params: { ...path, header: headers } })))}
        >
          {t("action.reopen")}
        </button>
      )}
      {!resolved && mine && (
        <button
          type="button"
          onClick={() => void action.run((headers) => must(api.POST("/api/tickets/{id}/unassign", { params: { ...path, header: headers } })))}
        >
          {t("action.unassign")}
        </button>
      )}
      {!resolved && (
        <button type="button" onClick={() => setDialog("transfer")}>
          {t("action.transfer")}
        </button>
      )}
      {!resolved && me.role !== "agent" && (
        <button type="button" onClick={() => setDialog("assign")}>
          {t("action.assign")}
        </button>
      )}
      {!resolved && ticket.status !== "bot" && (
        <button type="button" onClick={() => void handBack()}>
          {t("action.hand_back")}
        </button>
      )}
      <label className="inline">
        {t("action.priority")}
        <select
          ref={priorityRef}
          value={ticket.priority}
          onChange={(e) =>
            void action.run((headers) =>
              must(api.PUT("/api/tickets/{id}/priority", { params: { ...path, header: headers }, body: { priority: e.target.value } })),
            )
          }
        >
          {PRIORITIES.map((p) => (
            <option key={p} value={p}>
              {t(`priority.${p}`)}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => setDialog("tags")}>
        {t("action.tags")}
      </button>
      <TransferDialog open={dialog === "transfer"} onClose={() => setDialog(null)} detail={detail} me={me} action={action} />
      <AssignDialog open={dialog === "assign"} onClose={() => setDialog(null)} detail={detail} action={action} />
      <TagsDialog open={dialog === "tags"} onClose={() => setDialog(null)} detail={detail} action={action} />
    </div>
  );
}

function TransferDialog({ open, onClose, detail, me, action }: { open: boolean; onClose: () => void; detail: TicketDetail; me: Me; action: Action }) {
  const { t } = useTranslation();
  const [team, setTeam] = useState("");
  const [reason, setReason] = useState("");
  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title={t("action.transfer")}
      submit={t("action.transfer")}
      onSubmit={() =>
        action.run((headers) =>
          must(api.POST("/api/tickets/{id}/transfer", { params: { path: { id: detail.ticket.id }, header: headers }, body: { team, reason } })),
        )
      }
    >
      <label>
        {t("transfer.team")}
        <input required list="known-teams" value={team} onChange={(e) => setTeam(e.target.value)} />
        <datalist id="known-teams">
          {me.teams.map((x) => (
            <option key={x} value={x} />
          ))}
        </datalist>
      </label>
      <label>
        {t("transfer.reason")}
        <input required value={reason} onChange={(e) => setReason(e.target.value)} />
      </label>
    </FormDialog>
  );
}

function AssignDialog({ open, onClose, detail, action }: { open: boolean; onClose: () => void; detail: TicketDetail; action: Action }) {
  const { t } = useTranslation();
  const [agent, setAgent] = useState("");
  const team = detail.ticket.team;
  const agents = useQuery({
    queryKey: ["agents", team],
    enabled: open,
    queryFn: () =>
      must<{ available: { agent: string; open_tickets?: number }[] }>(api.GET("/api/teams/{team}/agents", { params: { path: { team } } })),
  });
  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title={t("action.assign")}
      submit={t("action.assign")}
      onSubmit={() =>
        action.run((headers) =>
          must(api.POST("/api/tickets/{id}/assign", { params: { path: { id: detail.ticket.id }, header: headers }, body: { agent } })),
        )
      }
    >
      <label>
        {t("assign.agent")}
        <input required list="team-agents" value={agent} onChange={(e) => setAgent(e.target.value)} />
        <datalist id="team-agents">
          {(agents.data?.available ?? []).map((a) => (
            <option key={a.agent} value={a.agent} />
          ))}
        </datalist>
      </label>
    </FormDialog>
  );
}

function TagsDialog({ open, onClose, detail, action }: { open: boolean; onClose: () => void; detail: TicketDetail; action: Action }) {
  const { t } = useTranslation();
  const [add, setAdd] = useState("");
  const [remove, setRemove] = useState<string[]>([]);
  const split = (text: string) => text.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
  return (
    <FormDialog
      open={open}
      onClose={onClose}
      title={t("action.tags")}
      submit={t("save")}
      onSubmit={() =>
        action.run((headers) =>
          must(
            api.POST("/api/tickets/{id}/tags", {
              params: { path: { id: detail.ticket.id }, header: headers },
              body: { add: split(add), remove },
            }),
          ),
        )
      }
    >
      <label>
        {t("tags.add")}
        <input value={add} onChange={(e) => setAdd(e.target.value)} placeholder="refund, damaged" />
      </label>
      <fieldset>
        <legend>{t("tags.remove")}</legend>
        {(detail.ticket.tags ?? []).map((tag) => (
          <label key={tag} className="inline">
            <input
              type="checkbox"
              checked={remove.includes(tag)}
              onChange={(e) => setRemove(e.target.checked ? [...remove, tag] : remove.filter((x) => x !== tag))}
            />
            {tag}
          </label>
        ))}
      </fieldset>
    </FormDialog>
  );
}
