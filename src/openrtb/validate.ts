// Checking a parsed BidRequest: the TypeBox schema first (compiled once), then the OpenRTB rules a
// schema cannot say. The first problem found is reported as { field, reason }, e.g.
// { field: "imp[1].id", reason: "duplicate imp id \"1\"" }; the answer to it is HTTP 400.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { BidRequest } from "./request.ts";
import { fieldPath, reasonOf } from "../config/errors.ts";

export interface RequestProblem { field: string; reason: string }

const checker = TypeCompiler.Compile(BidRequest);
const MEDIA = ["banner", "video", "audio", "native"] as const;
const CHANNELS = ["site", "app", "dooh"] as const;
export const SUPPORTED_CURRENCY = "USD";
/** Deepest JSON nesting accepted (root object = 1). Real requests stay under ~10; far deeper input
 *  would overflow the recursive JSON.stringify of the fan-out, so it is refused here. */
export const MAX_JSON_DEPTH = 64;

export function validateBidRequest(value: unknown, maxImps: number): RequestProblem | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { field: "(root)", reason: "must be a JSON object" };
  }
  const deep = tooDeep(value, 1, "");
  if (deep !== null) return { field: deep, reason: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  // The imp count first, so an oversized imp array is refused before the schema walks every imp.
  const imp = (value as { imp?: unknown }).imp;
  if (Array.isArray(imp) && imp.length > maxImps) return tooManyImps(imp.length, maxImps);
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    return first ? { field: fieldPath(first.path), reason: reasonOf(first) } : { field: "(root)", reason: "invalid" };
  }
  return checkRules(value);
}

// Ids end up URL-encoded in nurl/burl/adm macros; encodeURIComponent throws on a lone surrogate,
// which JSON can carry as an escape ("\ud800").
const ILL_FORMED_ID = "must be well-formed Unicode (no lone surrogate)";

function checkRules(req: BidRequest): RequestProblem | null {
  if (!req.id.isWellFormed()) return { field: "id", reason: ILL_FORMED_ID };
  const ids = new Set<string>();
  for (let i = 0; i < req.imp.length; i++) {
    const imp = req.imp[i]!;
    if (!imp.id.isWellFormed()) return { field: `imp[${i}].id`, reason: ILL_FORMED_ID };
    if (ids.has(imp.id)) return { field: `imp[${i}].id`, reason: `duplicate imp id "${imp.id}"` };
    ids.add(imp.id);
    if (!MEDIA.some((m) => imp[m] !== undefined)) {
      return { field: `imp[${i}]`, reason: "must have at least one of banner, video, audio, native" };
    }
    if (imp.bidfloorcur !== undefined && imp.bidfloorcur !== SUPPORTED_CURRENCY) {
      return { field: `imp[${i}].bidfloorcur`, reason: `only ${SUPPORTED_CURRENCY} is supported` };
    }
  }
  const channels = CHANNELS.filter((c) => req[c] !== undefined);
  if (channels.length > 1) return { field: channels[1]!, reason: `at most one of site, app, dooh may be present (got ${channels.join(", ")})` };
  if (req.at !== undefined && !(req.at === 1 || req.at === 2 || req.at >= 500)) {
    return { field: "at", reason: "must be 1 (first price), 2 (second price) or an exchange-specific value >= 500" };
  }
  if (req.cur !== undefined && req.cur.length > 0 && !req.cur.includes(SUPPORTED_CURRENCY)) {
    return { field: "cur", reason: `must include ${SUPPORTED_CURRENCY}, the only currency supported` };
  }
  return null;
}

function tooManyImps(count: number, maxImps: number): RequestProblem {
  return { field: "imp", reason: `at most ${maxImps} imps per request, got ${count}` };
}

/** The path of the first object or array nested deeper than MAX_JSON_DEPTH, else null. Recursion is
 *  bounded by MAX_JSON_DEPTH, so this cannot overflow the stack itself. */
function tooDeep(value: object, depth: number, path: string): string | null {
  if (depth > MAX_JSON_DEPTH) return path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== "object" || item === null) continue;
      const found = tooDeep(item, depth + 1, `${path}[${i}]`);
      if (found !== null) return found;
    }
    return null;
  }
  for (const key in value) {
    const item: unknown = (value as Record<string, unknown>)[key];
    if (typeof item !== "object" || item === null) continue;
    const found = tooDeep(item, depth + 1, path === "" ? key : `${path}.${key}`);
    if (found !== null) return found;
  }
  return null;
}
