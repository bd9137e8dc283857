import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import en from "./locales/en.json";
import fr from "./locales/fr.json";
import es from "./locales/es.json";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".tsx") ? [path] : [];
  });
}

describe("the console's languages", () => {
  it("French and Spanish have every English text and nothing else", () => {
    expect(Object.keys(fr).sort()).toEqual(Object.keys(en).sort());
    expect(Object.keys(es).sort()).toEqual(Object.keys(en).sort());
  });
  it("keep each text's placeholders", () => {
    const names = (text: string) => [...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();
    for (const [key, text] of Object.entries(en)) {
      expect(names((fr as Record<string, string>)[key]), `fr ${key}`).toEqual(names(text));
      expect(names((es as Record<string, string>)[key]), `es ${key}`).toEqual(names(text));
    }
  });
  it("have every text the code names literally", () => {
    const used = sources(import.meta.dirname).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/\bt\(\s*"([^"]+)"/g)].map((m) => m[1]),
    );
    expect(used.length).toBeGreaterThan(100);
    const missing = used.filter((key) => !(key in en));
    expect(missing).toEqual([]);
  });
});
