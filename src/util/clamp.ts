// Clamping, one home for the controllers (overload pressure and limit, pacing curves).

/** `x` held within [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** `x` held within [0, 1]. */
export function clamp01(x: number): number {
  return clamp(x, 0, 1);
}
