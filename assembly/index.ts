// The one WASM module of tmax: every kernel, compiled together over the one shared memory
// (layout.ts). Each kernel lives in its own file; this entry only re-exports them.
export * from "./auction";
export * from "./freqcap";
export * from "./gbdt";
