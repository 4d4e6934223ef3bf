// Decimal currency amounts <-> integer micros, without float arithmetic on the way in.
export const MICROS_PER_UNIT = 1_000_000;

const DECIMAL = /^(\d{1,12})(?:\.(\d{1,6}))?$/;

/** "12.5" or 12.5 -> 12_500_000. Null when not a non-negative decimal with at most 6 places. */
export function decimalToMicros(value: number | string): number | null {
  const text = typeof value === "number" ? numberText(value) : value.trim();
  if (text === null) return null;
  const match = DECIMAL.exec(text);
  if (!match) return null;
  const fraction = (match[2] ?? "").padEnd(6, "0");
  return Number(match[1]) * MICROS_PER_UNIT + Number(fraction);
}

function numberText(value: number): string | null {
  if (!Number.isFinite(value) || value < 0) return null;
  // Shortest round-trip text of the double, e.g. 0.1 -> "0.1"; exponents (1e-7) are refused above.
  return String(value);
}

/** OpenRTB CPM price (a JSON number) -> CPM micros, rounded to the nearest micro. */
export function cpmToMicros(price: number): number {
  return Math.round(price * MICROS_PER_UNIT);
}

/** Integer micros -> a JSON number in currency units (for OpenRTB answers and reports only). */
export function microsToUnits(micros: number): number {
  return micros / MICROS_PER_UNIT;
}
