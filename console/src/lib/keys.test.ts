import { describe, expect, it } from "vitest";
import { actionFor, KEYMAP } from "./keys";

const press = (key: string, extra: Partial<Parameters<typeof actionFor>[0]> = {}) =>
  actionFor({ key, ctrlKey: false, metaKey: false, altKey: false, typing: false, ...extra });

describe("the keyboard map", () => {
  it("maps every documented key to its action", () => {
    expect(press("j")).toBe("next");
    expect(press("k")).toBe("previous");
    expect(press("Enter")).toBe("open");
    expect(press("a")).toBe("claim");
    expect(press("e")).toBe("resolve");
    expect(press("r")).toBe("reply");
    expect(press("n")).toBe("note");
    expect(press("/")).toBe("canned");
    expect(press("?")).toBe("help");
    expect(press("k", { ctrlKey: true })).toBe("palette");
    expect(press("k", { metaKey: true })).toBe("palette");
    expect(new Set(KEYMAP.map((k) => k.action)).size).toBe(KEYMAP.length);
  });
  it("lets letters be typed in text fields, but Ctrl+K and Escape still work there", () => {
    expect(press("e", { typing: true })).toBeNull();
    expect(press("/", { typing: true })).toBeNull();
    expect(press("k", { typing: true, ctrlKey: true })).toBe("palette");
    expect(press("Escape", { typing: true })).toBe("escape");
  });
  it("leaves browser shortcuts alone", () => {
    expect(press("r", { ctrlKey: true })).toBeNull();
    expect(press("x")).toBeNull();
  });
});
