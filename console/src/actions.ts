// Keyboard and palette commands travel as one DOM event, so whichever part of
// the page can act on one (the list, the open ticket, the composer) does.
import { useEffect, useRef } from "react";
import type { KeyAction } from "./lib/keys";

export type Command = KeyAction | "assign" | "transfer" | "hand_back" | "priority" | "tags";
const EVENT = "helpdesk-command";

export function dispatchCommand(command: Command) {
  window.dispatchEvent(new CustomEvent<Command>(EVENT, { detail: command }));
}

export function useCommand(handler: (command: Command) => void) {
  const latest = useRef(handler);
  useEffect(() => {
    latest.current = handler;
  });
  useEffect(() => {
    const listener = (event: Event) => latest.current((event as CustomEvent<Command>).detail);
    window.addEventListener(EVENT, listener);
    return () => window.removeEventListener(EVENT, listener);
  }, []);
}
