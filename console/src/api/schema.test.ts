import { readFileSync } from "node:fs";
import { join } from "node:path";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";

// The client's types are generated from the API's description (openapi.json,
// itself checked against the API by tests/tests/console.rs): regenerating
// them must give the committed file, so the two cannot drift.
describe("the API client's types", () => {
  it("are what openapi-typescript makes of openapi.json", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const description = JSON.parse(readFileSync(join(root, "openapi.json"), "utf8"));
    const generated = astToString(await openapiTS(description));
    const committed = readFileSync(join(import.meta.dirname, "schema.d.ts"), "utf8");
    const body = (text: string) => {
      const start = text.indexOf("export interface paths");
      expect(start).toBeGreaterThanOrEqual(0);
      return text.slice(start).trim();
    };
    expect(committed).toContain('"/api/tickets/{id}/reply"');
    expect(body(committed)).toBe(body(generated));
  });
});
