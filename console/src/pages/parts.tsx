import type { ReactNode } from "react";
import { useTranslation } from "react-i18next";
import * as Dialog from "@radix-ui/react-dialog";

/** A table's header row. */
export function TableHead({ columns }: { columns: string[] }) {
  return (
    <thead>
      <tr>
        {columns.map((column) => (
          <th key={column} scope="col">
            {column}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A modal form: a title, fields, a submit button and Cancel. It closes when
 * `onSubmit` answers true. */
export function FormDialog({
  open,
  onClose,
  title,
  description,
  onSubmit,
  children,
  submit,
  danger = false,
  disabled = false,
}: {
  open: boolean;
  onClose: () => void;
  title: string;
  description?: string;
  onSubmit: () => Promise<boolean>;
  children: ReactNode;
  submit: string;
  danger?: boolean;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <Dialog.Root open={open} onOpenChange={(o) => !o && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className="overlay" />
        <Dialog.Content className="dialog">
          <Dialog.Title>{title}</Dialog.Title>
          <Dialog.Description className={description ? undefined : "visually-hidden"}>{description ?? title}</Dialog.Description>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void onSubmit().then((ok) => ok && onClose());
            }}
          >
            {children}
            <div className="buttons">
              <button type="submit" className={danger ? "danger" : "primary"} disabled={disabled} data-testid="dialog-submit">
                {submit}
              </button>
              <Dialog.Close className="button" type="button">
                {t("cancel")}
              </Dialog.Close>
            </div>
          </form>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
