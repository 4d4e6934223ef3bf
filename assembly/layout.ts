// The one declaration of tmax's shared WebAssembly memory layout.
//
// This file is valid AssemblyScript *and* TypeScript: the kernels import it when compiled to WASM,
// and src/auction/memory.ts imports the very same constants, so no offset is ever written twice.
//
// One `WebAssembly.Memory({ shared: true })` is created by the main thread and handed to every
// worker; every worker instantiates the kernels over it. Budget slots are therefore seen by all
// workers at once (atomics), while each worker writes its auction inputs into its own scratch area.
//
//  0               STATIC_END   BUDGET_BASE       SCRATCH_BASE        FREQCAP_RULES_BASE  FREQCAP_TABLE_BASE  GBDT_BASE
//  +---------------+------------+-----------------+-------------------+-------------------+-------------------+-----------+
//  | AS static data|  (unused)  | budget slots    | worker scratch x  | frequency-cap     | frequency-cap     | GBDT model|
//  |               |            | one per campaign| MAX_WORKERS       | rules per campaign| counter table     | + rows    |
//  +---------------+------------+-----------------+-------------------+-------------------+-------------------+-----------+
//
//  budget slot (BUDGET_SLOT_BYTES = 16), one per campaign, all values integer micros:
//  +0  i64 remaining   spendable now; a reservation subtracts from it, never below zero
//  +8  i64 reserved    sum of all reservations (cost of impressions we answered with)
//
//  worker scratch (SCRATCH_BYTES), rewritten for every auction by the worker that owns it:
//  +0                  imp records    MAX_IMPS x IMP_BYTES
//  +IMPS_BYTES         bid records    MAX_BIDS x BID_BYTES
//  +.. (RESULTS_OFF)   result records MAX_IMPS x RESULT_BYTES
//
//  imp record (IMP_BYTES = 24)            bid record (BID_BYTES = 16)       result record (RESULT_BYTES = 24)
//  +0  i64 floor, CPM micros              +0  i64 price, CPM micros         +0  i32 winning bid index or -1
//  +8  i32 auction type (1 first, 2 sec.) +8  i32 budget slot               +4  i32 bids skipped for budget
//  +12 i32 first bid index                +12 i32 flags (0 = eligible)      +8  i64 clearing price, CPM micros
//  +16 i32 bid count                                                        +16 i64 cost reserved, micros
//  +20 i32 (padding)

export const PAGE_BYTES = 65536;

/** The kernels keep no static data beyond this; the loader asserts `__heap_base` <= STATIC_END. */
export const STATIC_END = 65536;

export const MAX_CAMPAIGNS = 16384;
export const BUDGET_SLOT_BYTES = 16;
export const BUDGET_BASE = STATIC_END;
export const BUDGET_REMAINING_OFF = 0;
export const BUDGET_RESERVED_OFF = 8;

export const MAX_WORKERS = 64;
export const MAX_IMPS = 32;
export const MAX_BIDS = 512;

export const IMP_BYTES = 24;
export const IMP_FLOOR_OFF = 0;
export const IMP_AT_OFF = 8;
export const IMP_FIRST_BID_OFF = 12;
export const IMP_BID_COUNT_OFF = 16;

export const BID_BYTES = 16;
export const BID_PRICE_OFF = 0;
export const BID_SLOT_OFF = 8;
export const BID_FLAGS_OFF = 12;

export const RESULT_BYTES = 24;
export const RESULT_WINNER_OFF = 0;
export const RESULT_BUDGET_SKIPS_OFF = 4;
export const RESULT_PRICE_OFF = 8;
export const RESULT_COST_OFF = 16;

/** Bid flags: set by the caller before the kernel runs (any non-zero flag makes a bid ineligible). */
export const FLAG_BLOCKED = 1;
/** Set by the kernel on a bid whose campaign could not afford its clearing cost. */
export const FLAG_NO_BUDGET = 2;

/** Second-price increment: the winner pays the runner-up's price plus 0.01 CPM. */
export const PRICE_INCREMENT_MICROS = 10000;

export const IMPS_BYTES = MAX_IMPS * IMP_BYTES;
export const BIDS_OFF = IMPS_BYTES;
export const RESULTS_OFF = BIDS_OFF + MAX_BIDS * BID_BYTES;
export const SCRATCH_BYTES = RESULTS_OFF + MAX_IMPS * RESULT_BYTES;

export const SCRATCH_BASE = BUDGET_BASE + MAX_CAMPAIGNS * BUDGET_SLOT_BYTES;
export const SCRATCH_END = SCRATCH_BASE + MAX_WORKERS * SCRATCH_BYTES;

// ---- frequency caps (assembly/freqcap.ts) ----
//  rules, per campaign slot, FREQCAP_WINDOWS x FREQCAP_RULE_BYTES (max 0 = no rule in that place),
//  written by the main thread before workers start, in the campaign's config order:
//  +0 i32 max impressions   +4 i32 window seconds
//  counter table: FREQCAP_ENTRIES entries of FREQCAP_ENTRY_BYTES, linear probing from the key's home
//  over at most FREQCAP_PROBE_LIMIT entries:
//  +0  i64 key  (hash of user key and campaign slot, always odd; 0 = empty, FREQCAP_KEY_BUSY = being evicted)
//  +8  FREQCAP_WINDOWS x i64 { +0 i32 count, +4 u32 window end, unix seconds (0 = never opened) }
//      one i64 per window, so count and end change together in one compare-and-swap; a window
//      whose end <= now has expired and counts as empty. Storing the end (not the start) lets an
//      eviction see that an entry is expired without knowing which campaign it belongs to.
//  eviction lock (FREQCAP_LOCK_BYTES, alone on its cache line): +0 i32 (0 free, 1 held)
export const FREQCAP_WINDOWS = 3;
export const FREQCAP_RULE_BYTES = 8;
export const FREQCAP_RULE_MAX_OFF = 0;
export const FREQCAP_RULE_WINDOW_SEC_OFF = 4;
export const FREQCAP_RULES_BASE = SCRATCH_END;
export const FREQCAP_RULES_BYTES = MAX_CAMPAIGNS * FREQCAP_WINDOWS * FREQCAP_RULE_BYTES;
export const FREQCAP_ENTRY_BYTES = 32;
export const FREQCAP_WINDOWS_OFF = 8;
export const FREQCAP_WINDOW_BYTES = 8;
export const FREQCAP_ENTRIES = 65536; // a power of two
export const FREQCAP_PROBE_LIMIT = 16;
export const FREQCAP_TABLE_BASE = FREQCAP_RULES_BASE + FREQCAP_RULES_BYTES;
export const FREQCAP_LOCK_BASE = FREQCAP_TABLE_BASE + FREQCAP_ENTRIES * FREQCAP_ENTRY_BYTES;
export const FREQCAP_LOCK_BYTES = 64;
export const FREQCAP_END = FREQCAP_LOCK_BASE + FREQCAP_LOCK_BYTES;
export const FREQCAP_KEY_EMPTY = 0;
export const FREQCAP_KEY_BUSY = 2;
/** Bounded waits (eviction lock, an entry being evicted); giving up treats the bid as capped. */
export const FREQCAP_SPIN_LIMIT = 4096;
/** Attempts of one take when an eviction moves the entry away underneath it; then capped. */
export const FREQCAP_RETRY_LIMIT = 4;
/** Largest `max` and `windowSec` a cap may have (config refuses more). */
export const FREQCAP_MAX_COUNT = 1000000;
export const FREQCAP_MAX_WINDOW_SEC = 31 * 86400;
/** Results of capCheck / capTake / capSeedWindow. */
export const CAP_CAPPED = 0;
export const CAP_OK = 1;
export const CAP_NO_ROOM = 2;
/** runAuction's capMode: caps ignored (no user key, policy "allow"), enforced for the user key, or
 *  every capped campaign refused (no user key, policy "deny"). */
export const CAP_MODE_OFF = 0;
export const CAP_MODE_KEY = 1;
export const CAP_MODE_DENY = 2;
/** Bid flag set by the auction kernel: the bid's campaign is capped for this user (ineligible). */
export const FLAG_FREQ_CAPPED = 4;
/** Set together with FLAG_FREQ_CAPPED when the table had no room for the user's entry. */
export const FLAG_FREQ_NO_ROOM = 8;

// ---- gradient-boosted trees (assembly/gbdt.ts) ----
//  model (written once by the main thread before any worker scores, read by every worker), then
//  per-worker row buffers.
//
//  GBDT_BASE         +GBDT_ROOTS_OFF          +GBDT_NODES_OFF                         GBDT_ROWS_BASE
//  +-----------------+------------------------+---------------------------------------+------------------+
//  | model header    | tree roots             | nodes: each tree's nodes contiguous,  | row buffer x     |
//  |                 | GBDT_MAX_TREES x i32   | siblings adjacent (right = left + 1)  | MAX_WORKERS      |
//  +-----------------+------------------------+---------------------------------------+------------------+
//
//  model header (GBDT_HEADER_BYTES = 64)      node (GBDT_NODE_BYTES = 8)
//  +0  i32 tree count (0 = no trees)          +0 f32 split condition (x < it goes left), or leaf value
//  +4  i32 feature count rows must carry      +4 i32 link: GBDT_LEAF_LINK at a leaf, else
//  +8  i32 node count                             left child node index << GBDT_CHILD_SHIFT
//  +12 f32 base margin (logit of base_score)      | GBDT_DEFAULT_LEFT_BIT (a NaN feature goes left)
//                                                 | feature index (GBDT_FEATURE_MASK)
//
//  row buffer (GBDT_ROWS_BYTES), rewritten for every batch by the worker that owns it:
//  +0                 rowCount x featureCount f32 features, packed row after row (NaN = missing)
//  +GBDT_SCORES_OFF   GBDT_MAX_ROWS x f32 score per row (probability, or margin), written by the kernel
//  (at a leaf the kernel reads, and ignores, the word at row + GBDT_FEATURE_MASK * 4: still in the buffer)
export const GBDT_BASE = FREQCAP_END;
export const GBDT_MODEL_BYTES = 4 * 1024 * 1024;
export const GBDT_MAX_FEATURES = 64;
export const GBDT_MAX_ROWS = 256; // rows per batch call
export const GBDT_ROWS_BASE = GBDT_BASE + GBDT_MODEL_BYTES;
export const GBDT_ROWS_BYTES = GBDT_MAX_ROWS * (GBDT_MAX_FEATURES + 1) * 4; // f32 features + f32 score per row
export const GBDT_END = GBDT_ROWS_BASE + MAX_WORKERS * GBDT_ROWS_BYTES;

export const GBDT_HEADER_BYTES = 64;
export const GBDT_TREE_COUNT_OFF = 0;
export const GBDT_FEATURE_COUNT_OFF = 4;
export const GBDT_NODE_COUNT_OFF = 8;
export const GBDT_BASE_MARGIN_OFF = 12;
export const GBDT_MAX_TREES = 4096;
export const GBDT_ROOTS_OFF = GBDT_HEADER_BYTES;
export const GBDT_NODES_OFF = GBDT_ROOTS_OFF + GBDT_MAX_TREES * 4;
export const GBDT_NODE_BYTES = 8;
export const GBDT_NODE_VALUE_OFF = 0;
export const GBDT_NODE_LINK_OFF = 4;
export const GBDT_MAX_NODES = (GBDT_MODEL_BYTES - GBDT_NODES_OFF) / GBDT_NODE_BYTES;
export const GBDT_LEAF_LINK = -1;
export const GBDT_FEATURE_MASK = 0x7f; // holds every index below GBDT_MAX_FEATURES
export const GBDT_DEFAULT_LEFT_BIT = 0x80;
export const GBDT_CHILD_SHIFT = 8; // 23 bits of child index: far more than GBDT_MAX_NODES
export const GBDT_SCORES_OFF = GBDT_MAX_ROWS * GBDT_MAX_FEATURES * 4;
/** XGBoost's sigmoid clamps exp's argument here so a float32 exp cannot overflow. */
export const GBDT_SIGMOID_EXP_LIMIT = 88.7; // used as float32 on both sides

export const MEMORY_END = GBDT_END;
/** Pages of the shared memory (asc's initial and maximum memory); memory.ts asserts MEMORY_END fits. */
export const MEMORY_PAGES = 192;
