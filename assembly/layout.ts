// The one declaration of tmax's shared WebAssembly memory layout.
//
// This file is valid AssemblyScript *and* TypeScript: the kernels import it when compiled to WASM,
// and src/auction/memory.ts imports the very same constants, so no offset is ever written twice.
//
// One `WebAssembly.Memory({ shared: true })` is created by the main thread and handed to every
// worker; every worker instantiates the kernels over it. Budget slots are therefore seen by all
// workers at once (atomics), while each worker writes its auction inputs into its own scratch area.
//
//  0                 STATIC_END        BUDGET_BASE                               SCRATCH_BASE
//  +-----------------+-----------------+------------------------------------------+--------------------+
//  | AS static data  |   (unused)      | budget slot 0 | slot 1 | ... | slot N-1  | worker 0 | worker 1 | ...
//  +-----------------+-----------------+------------------------------------------+--------------------+
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
export const MEMORY_END = SCRATCH_BASE + MAX_WORKERS * SCRATCH_BYTES;
/** Pages of the shared memory (asc's initial and maximum memory); a test asserts MEMORY_END fits. */
export const MEMORY_PAGES = 16;
