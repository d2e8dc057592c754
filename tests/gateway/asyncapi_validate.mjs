// Validates an AsyncAPI document (read from stdin) with the AsyncAPI project's own parser, which
// checks the 3.0 schema and the rules between parts (operations, channels, messages).
// Prints the diagnostics as JSON; exits 1 when any is an error.
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const text = readFileSync(0, "utf8");
const { diagnostics } = await new Parser().parse(text);
const out = diagnostics.map((d) => ({
  severity: ["error", "warning", "info", "hint"][d.severity] ?? String(d.severity),
  code: d.code,
  message: d.message,
  path: d.path.join("."),
}));
process.stdout.write(JSON.stringify(out, null, 1) + "\n");
process.exit(out.some((d) => d.severity === "error") ? 1 : 0);
