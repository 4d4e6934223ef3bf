// Every bound of the fraud stage, named once (the shared tables are fixed-size; config cannot raise these).
export const FRAUD_LIMITS = {
  /** Entries in each of the device and IP history tables (a power of two): ~13 words each. */
  historyEntries: 65536,
  /** Entries in the dynamic block table (tier 3 and admin blocks; a power of two). */
  blockEntries: 16384,
  /** Entries probed from a key's home before the stalest is evicted. */
  probeLimit: 8,
  /** Largest sliding window for rate limits. */
  maxRateWindowMs: 3_600_000,
  /** Longest impossible-geography interval. */
  maxGeoIntervalSec: 7 * 86_400,
  /** Sellers in the supply-chain allow-list. */
  maxSchainSellers: 100_000,
  /** Nodes in a supply chain before it is refused as malformed. */
  maxSchainNodes: 20,
  /** Largest blocklist / data-center list file read. */
  maxListBytes: 16 * 1024 * 1024,
  /** Total requests counted per history entry (saturates). */
  maxHistoryCount: 1_000_000,
} as const;
