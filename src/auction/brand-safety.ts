// Brand safety: a bid is blocked when one of its advertiser domains is in the request's `badv`
// (exact or a subdomain: badv "brand.com" blocks "shop.brand.com"), or one of its categories is
// in `bcat` (exact, or a subcategory: bcat "IAB7" blocks "IAB7-3").
export type BlockReason = "badv" | "bcat" | null;

export interface BlockLists { badv: Set<string> | null; bcat: Set<string> | null }

export function blockLists(badv: string[] | undefined, bcat: string[] | undefined): BlockLists {
  return {
    badv: badv && badv.length > 0 ? new Set(badv.map(normalizeDomain)) : null,
    bcat: bcat && bcat.length > 0 ? new Set(bcat) : null,
  };
}

export function blockReason(adomain: string[] | undefined, cat: string[] | undefined, lists: BlockLists): BlockReason {
  if (lists.badv && adomain) for (const domain of adomain) if (domainBlocked(normalizeDomain(domain), lists.badv)) return "badv";
  if (lists.bcat && cat) for (const c of cat) if (lists.bcat.has(c) || lists.bcat.has(parentCategory(c))) return "bcat";
  return null;
}

function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase();
  return d.startsWith("www.") ? d.slice(4) : d;
}

function domainBlocked(domain: string, badv: Set<string>): boolean {
  for (let at = 0; ; ) {
    if (badv.has(domain.slice(at))) return true;
    const dot = domain.indexOf(".", at);
    if (dot < 0) return false;
    at = dot + 1;
  }
}

function parentCategory(cat: string): string {
  const dash = cat.indexOf("-");
  return dash < 0 ? cat : cat.slice(0, dash);
}
