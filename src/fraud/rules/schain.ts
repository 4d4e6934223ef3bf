// Tier 1, supply chain (source.schain, OpenRTB 2.6 / SupplyChain 1.0): the chain must be complete
// (complete = 1), every node well-formed (asi a domain, sid a non-empty string, hp = 1), and, when
// an allow-list is configured, every node's seller ("asi" or "asi:sid") on it.
import { FRAUD_LIMITS } from "../limits.ts";
import type { FraudReason } from "../verdict.ts";

const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export interface SchainRule { required: boolean; sellers: ReadonlySet<string> | null }

/** The reason to block, or null. `source` is the request's `source` object (unknown shape). */
export function checkSchain(source: unknown, rule: SchainRule): FraudReason | null {
  const schain = (source as { schain?: unknown } | undefined)?.schain ?? (source as { ext?: { schain?: unknown } } | undefined)?.ext?.schain;
  if (schain === undefined || schain === null) return rule.required ? "schain_incomplete" : null;
  if (typeof schain !== "object") return "schain_malformed";
  const { complete, nodes } = schain as { complete?: unknown; nodes?: unknown };
  if (!Array.isArray(nodes) || nodes.length === 0 || nodes.length > FRAUD_LIMITS.maxSchainNodes) return "schain_malformed";
  for (let i = 0; i < nodes.length; i++) {
    if (!wellFormed(nodes[i])) return "schain_malformed";
  }
  if (complete !== 1) return "schain_incomplete";
  if (rule.sellers !== null) {
    for (let i = 0; i < nodes.length; i++) {
      const { asi, sid } = nodes[i] as { asi: string; sid: string };
      if (!rule.sellers.has(asi) && !rule.sellers.has(`${asi}:${sid}`)) return "schain_seller_blocked";
    }
  }
  return null;
}

function wellFormed(node: unknown): boolean {
  if (typeof node !== "object" || node === null) return false;
  const { asi, sid, hp } = node as { asi?: unknown; sid?: unknown; hp?: unknown };
  return typeof asi === "string" && DOMAIN.test(asi) && typeof sid === "string" && sid.length > 0 && sid.length <= 512 && hp === 1;
}
