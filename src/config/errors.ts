// Turning TypeBox error paths into the names people write: /dsps/2/endpoint -> dsps[2].endpoint.
import type { ValueError } from "@sinclair/typebox/errors";

export function fieldPath(pointer: string): string {
  let out = "";
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(key) ? `[${key}]` : out === "" ? key : `.${key}`;
  }
  return out === "" ? "(root)" : out;
}

/** A short reason for one schema error, naming allowed values where TypeBox only says "Expected union". */
export function reasonOf(error: ValueError): string {
  const schema = error.schema as { const?: unknown; anyOf?: Array<{ const?: unknown; type?: string }> };
  if (schema.const !== undefined) return `must be ${JSON.stringify(schema.const)}`;
  if (error.message === "Expected required property") return "is required";
  if (error.message === "Unexpected property") return "is not a known field";
  if (error.message === "Expected union value" && Array.isArray(schema.anyOf)) return `must be ${schema.anyOf.map(alternative).join(" or ")}`;
  return error.message.charAt(0).toLowerCase() + error.message.slice(1);
}

function alternative(schema: { const?: unknown; type?: string }): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.type === undefined) return "a valid value";
  return /^[aeiou]/.test(schema.type) ? `an ${schema.type}` : `a ${schema.type}`;
}

export class ConfigError extends Error {
  constructor(readonly field: string, readonly reason: string) {
    super(`config error: ${field}: ${reason}`);
    this.name = "ConfigError";
  }
}
