import * as Dialog from "@radix-ui/react-dialog";
import { useTranslation } from "react-i18next";
import { KEYMAP } from "../lib/keys";

export function KeyboardHelp({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  return (
    <Dialog.Root open={open} onOpenChange={onOpenChange}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title>{t("keys.title")}</Dialog.Title>
          <Dialog.Description>{t("keys.description")}</Dialog.Description>
          <table className="keys">
            <tbody>
              {KEYMAP.map((entry) => (
                <tr key={entry.action}>
                  <th scope="row">
                    <kbd>{entry.keys}</kbd>
                  </th>
                  <td>{t(`keys.${entry.action}`)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Dialog.Close className="button">{t("close")}</Dialog.Close>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
