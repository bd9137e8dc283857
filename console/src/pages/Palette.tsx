import { Command } from "cmdk";
import { useTranslation } from "react-i18next";
import { dispatchCommand, type Command as Action } from "../actions";
import { VIEWS } from "../queries";

/** Ctrl+K: every view, page and ticket action by name. */
export function Palette({
  open,
  onOpenChange,
  role,
  navigate,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  role: string;
  navigate: (to: string) => void;
}) {
  const { t } = useTranslation();
  const run = (what: () => void) => {
    onOpenChange(false);
    what();
  };
  const actions: Action[] = ["claim", "reply", "note", "canned", "resolve", "assign", "transfer", "priority", "tags", "hand_back"];
  return (
    <Command.Dialog open={open} onOpenChange={onOpenChange} label={t("palette.title")} className="palette" overlayClassName="overlay">
      <Command.Input placeholder={t("palette.placeholder")} aria-label={t("palette.placeholder")} />
      <Command.List>
        <Command.Empty>{t("palette.empty")}</Command.Empty>
        <Command.Group heading={t("palette.views")}>
          {VIEWS.map((view) => (
            <Command.Item key={view} onSelect={() => run(() => navigate(`/?view=${view}`))}>
              {t(`view.${view}`)}
            </Command.Item>
          ))}
          {role !== "agent" && <Command.Item onSelect={() => run(() => navigate("/dashboard"))}>{t("nav.dashboard")}</Command.Item>}
          {role === "admin" && <Command.Item onSelect={() => run(() => navigate("/admin"))}>{t("nav.admin")}</Command.Item>}
        </Command.Group>
        <Command.Group heading={t("palette.ticket")}>
          {actions.map((action) => (
            <Command.Item key={action} onSelect={() => run(() => dispatchCommand(action))}>
              {t(`action.${action}`)}
            </Command.Item>
          ))}
        </Command.Group>
      </Command.List>
    </Command.Dialog>
  );
}
