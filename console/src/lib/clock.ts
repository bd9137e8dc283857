// The desk's time. On AWS it is the browser's; locally the runner's clock can
// be moved forward (`/_local/clock`), and SLA countdowns follow it.
import { useEffect, useState } from "react";
import { authMode } from "../auth";

let offsetMs = 0;

export async function syncDeskClock(): Promise<void> {
  if (authMode() !== "local") return;
  try {
    const response = await fetch("/_local/clock", { cache: "no-store" });
    if (!response.ok) return;
    const clock = (await response.json()) as { now_ms?: number };
    if (typeof clock.now_ms === "number") offsetMs = clock.now_ms - Date.now();
  } catch {
    // The browser's clock stands in.
  }
}

export const deskNow = () => Date.now() + offsetMs;

/** The desk's time, ticking every second. */
export function useNow(): number {
  const [now, setNow] = useState(deskNow);
  useEffect(() => {
    const timer = setInterval(() => setNow(deskNow()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}
