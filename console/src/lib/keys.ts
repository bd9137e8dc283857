// The console's keyboard map, shown on `?`. Pure: a key press becomes an action.

export type KeyAction =
  | "next"
  | "previous"
  | "open"
  | "claim"
  | "resolve"
  | "reply"
  | "note"
  | "canned"
  | "palette"
  | "help"
  | "escape";

export const KEYMAP: { keys: string; action: KeyAction }[] = [
  { keys: "J", action: "next" },
  { keys: "K", action: "previous" },
  { keys: "Enter", action: "open" },
  { keys: "A", action: "claim" },
  { keys: "E", action: "resolve" },
  { keys: "R", action: "reply" },
  { keys: "N", action: "note" },
  { keys: "/", action: "canned" },
  { keys: "Ctrl+K", action: "palette" },
  { keys: "?", action: "help" },
  { keys: "Esc", action: "escape" },
];

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
  /** Whether the focus is in a text field, where letters are typed, not commands. */
  typing: boolean;
}

export function actionFor(press: KeyPress): KeyAction | null {
  const key = press.key;
  if ((press.ctrlKey || press.metaKey) && key.toLowerCase() === "k") return "palette";
  if (key === "Escape") return "escape";
  if (press.typing || press.ctrlKey || press.metaKey || press.altKey) return null;
  switch (key) {
    case "j":
    case "J":
      return "next";
    case "k":
    case "K":
      return "previous";
    case "Enter":
      return "open";
    case "a":
    case "A":
      return "claim";
    case "e":
    case "E":
      return "resolve";
    case "r":
    case "R":
      return "reply";
    case "n":
    case "N":
      return "note";
    case "/":
      return "canned";
    case "?":
      return "help";
    default:
      return null;
  }
}
