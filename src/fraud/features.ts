// The tier 2 model's features: the ONE place they are listed (index, name, meaning) and written into
// a row. The server (src/fraud/screen.ts), the training-data export (scripts/fraud/export.ts) and
// the evaluation all go through writeFeatures, so the model sees in production exactly what it was
// trained on. NaN = missing (XGBoost's default direction applies).
//
// Changing this list (order, meaning) invalidates trained models: retrain (scripts/fraud/train.py)
// and ship the new src/fraud/model/default.json in the same commit. FEATURE_COUNT is checked
// against a model's feature count when it is loaded.
import type { BidRequest } from "../openrtb/request.ts";
import { deviceOs, OS_UNKNOWN, uaBrowserMajor, uaIsMobile, uaOs } from "./rules/user-agent.ts";

export const FEATURES = [
  { name: "ip_rate", meaning: "requests from the IP in the sliding rate window (all workers)" },
  { name: "device_rate", meaning: "requests from the device in the sliding rate window" },
  { name: "ip_devices", meaning: "distinct devices seen on the IP since its history entry was made (32-bucket bitmap, 1..32; not windowed)" },
  { name: "device_age_s", meaning: "seconds since the device was first seen (history table)" },
  { name: "device_total", meaning: "requests seen from the device (history table)" },
  { name: "ip_age_s", meaning: "seconds since the IP was first seen" },
  { name: "device_timing_jitter", meaning: "running mean |gap - previous gap| / gap between the device's requests (low = machine-regular); NaN before 3 requests" },
  { name: "ip_timing_jitter", meaning: "the same for the IP" },
  { name: "ua_is_bot", meaning: "1 when isbot matches the user agent" },
  { name: "ua_os_mismatch", meaning: "1 when the OS the UA claims differs from device.os; NaN when either is unknown" },
  { name: "ua_form_mismatch", meaning: "1 when a mobile UA comes with devicetype PC (2), or a desktop UA with devicetype mobile/phone (1, 4)" },
  { name: "ua_length", meaning: "length of the user agent (0 when absent)" },
  { name: "ua_browser_major", meaning: "major version of Chrome / Firefox / Safari in the UA; NaN when none" },
  { name: "datacenter_ip", meaning: "1 when the IP is in a data-center range (0 when rules are off or IP absent)" },
  { name: "geo_changed", meaning: "1 when the device's country differs from its previous request's" },
  { name: "has_user_id", meaning: "1 when user.id is present" },
  { name: "has_buyeruid", meaning: "1 when user.buyeruid is present" },
  { name: "eids", meaning: "number of user.eids (extended ids)" },
  { name: "has_ifa", meaning: "1 when device.ifa is present (and not all zeros)" },
  { name: "is_app", meaning: "1 for app inventory, 0 for site" },
  { name: "device_js", meaning: "device.js (1 = JavaScript supported); NaN when absent" },
  { name: "has_language", meaning: "1 when device.language is present" },
  { name: "schain_nodes", meaning: "number of source.schain nodes (0 when absent)" },
  { name: "imp_count", meaning: "imps in the request" },
  { name: "async_suspect", meaning: "1 when tier 3 marked the request's subnet suspect (block table); the shipped model never saw it set (training runs no tier 3): suspect subnets are flagged directly" },
] as const;

export type FeatureName = (typeof FEATURES)[number]["name"];
export const FEATURE_COUNT = FEATURES.length;
export const FEATURE_NAMES: readonly string[] = FEATURES.map((f) => f.name);

/** What the screener measured for one request from the shared tables (one per worker, reused). */
export interface HistorySignals {
  ipRate: number;
  deviceRate: number;
  ipDevices: number;
  deviceAgeSec: number;
  deviceTotal: number;
  ipAgeSec: number;
  deviceJitter: number;
  ipJitter: number;
  datacenter: boolean;
  geoChanged: boolean;
  suspect: boolean;
  uaIsBot: boolean;
}

export function newHistorySignals(): HistorySignals {
  return {
    ipRate: 0, deviceRate: 0, ipDevices: 0, deviceAgeSec: 0, deviceTotal: 0, ipAgeSec: 0, deviceJitter: Number.NaN, ipJitter: Number.NaN,
    datacenter: false, geoChanged: false, suspect: false, uaIsBot: false,
  };
}

const b = (x: boolean) => (x ? 1 : 0);
const ZERO_IFA = "00000000-0000-0000-0000-000000000000";

/** Writes the request's FEATURE_COUNT features into `row` from `offset`. No allocation. */
export function writeFeatures(row: Float32Array, offset: number, req: BidRequest, s: HistorySignals): void {
  const device = req.device;
  const ua = device?.ua ?? "";
  const user = req.user as { id?: string; buyeruid?: string; eids?: unknown[] } | undefined;
  const d = device as { os?: string; js?: number; language?: string; devicetype?: number; ifa?: string } | undefined;
  const claimedOs = ua === "" ? OS_UNKNOWN : uaOs(ua);
  const fieldOs = deviceOs(d?.os);
  const mobileUa = ua !== "" && uaIsMobile(ua);
  const type = d?.devicetype;
  const schain = (req.source as { schain?: { nodes?: unknown[] } } | undefined)?.schain;
  let i = offset;
  row[i++] = s.ipRate;
  row[i++] = s.deviceRate;
  row[i++] = s.ipDevices;
  row[i++] = s.deviceAgeSec;
  row[i++] = s.deviceTotal;
  row[i++] = s.ipAgeSec;
  row[i++] = s.deviceJitter;
  row[i++] = s.ipJitter;
  row[i++] = b(s.uaIsBot);
  row[i++] = claimedOs === OS_UNKNOWN || fieldOs === OS_UNKNOWN ? Number.NaN : b(claimedOs !== fieldOs);
  row[i++] = type === undefined || ua === "" ? Number.NaN : b((mobileUa && type === 2) || (!mobileUa && (type === 1 || type === 4)));
  row[i++] = ua.length;
  row[i++] = ua === "" ? Number.NaN : uaBrowserMajor(ua);
  row[i++] = b(s.datacenter);
  row[i++] = b(s.geoChanged);
  row[i++] = b(typeof user?.id === "string" && user.id !== "");
  row[i++] = b(typeof user?.buyeruid === "string" && user.buyeruid !== "");
  row[i++] = Array.isArray(user?.eids) ? user.eids.length : 0;
  row[i++] = b(typeof d?.ifa === "string" && d.ifa !== "" && d.ifa !== ZERO_IFA);
  row[i++] = b(req.app !== undefined);
  row[i++] = typeof d?.js === "number" ? d.js : Number.NaN;
  row[i++] = b(typeof d?.language === "string" && d.language !== "");
  row[i++] = Array.isArray(schain?.nodes) ? schain.nodes.length : 0;
  row[i++] = req.imp.length;
  row[i++] = b(s.suspect);
}
