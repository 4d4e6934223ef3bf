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

export function validateBidRequest(value: unknown, maxImps: number): RequestProblem | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { field: "(root)", reason: "must be a JSON object" };
  }
  if (!checker.Check(value)) {
    const first = checker.Errors(value).First();
    return first ? { field: fieldPath(first.path), reason: reasonOf(first) } : { field: "(root)", reason: "invalid" };
  }
  return checkRules(value, maxImps);
}

function checkRules(req: BidRequest, maxImps: number): RequestProblem | null {
  if (req.imp.length > maxImps) return { field: "imp", reason: `at most ${maxImps} imps per request, got ${req.imp.length}` };
  const ids = new Set<string>();
  for (let i = 0; i < req.imp.length; i++) {
    const imp = req.imp[i]!;
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
