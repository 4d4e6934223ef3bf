// Reading fields out of a parsed XGBoost JSON model with messages that name the field: every failure
// throws a GbdtModelError "gbdt model <source>: <path>: <what is wrong>".

export class GbdtModelError extends Error {
  constructor(readonly source: string, readonly reason: string) {
    super(`gbdt model ${source}: ${reason}`);
    this.name = "GbdtModelError";
  }
}

export type JsonObject = Record<string, unknown>;

/** Where in the model we are, for messages: the source file and a dotted field path. */
export class JsonPlace {
  constructor(readonly source: string, readonly path: string) {}

  fail(reason: string): never {
    throw new GbdtModelError(this.source, this.path === "" ? reason : `${this.path}: ${reason}`);
  }

  child(key: string | number): JsonPlace {
    if (typeof key === "number") return new JsonPlace(this.source, `${this.path}[${key}]`);
    return new JsonPlace(this.source, this.path === "" ? key : `${this.path}.${key}`);
  }
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

export function asObject(value: unknown, place: JsonPlace): JsonObject {
  if (value === undefined) place.fail("is missing");
  if (typeof value !== "object" || value === null || Array.isArray(value)) place.fail(`must be an object, not ${kindOf(value)}`);
  return value as JsonObject;
}

export function objectAt(parent: JsonObject, key: string, place: JsonPlace): JsonObject {
  return asObject(parent[key], place.child(key));
}

export function arrayAt(parent: JsonObject, key: string, place: JsonPlace): unknown[] {
  const value = parent[key];
  const at: JsonPlace = place.child(key);
  if (value === undefined) at.fail("is missing");
  if (!Array.isArray(value)) at.fail(`must be an array, not ${kindOf(value)}`);
  return value;
}

export function stringAt(parent: JsonObject, key: string, place: JsonPlace): string {
  const value = parent[key];
  const at: JsonPlace = place.child(key);
  if (value === undefined) at.fail("is missing");
  if (typeof value !== "string") at.fail(`must be a string, not ${kindOf(value)}`);
  return value;
}

/** XGBoost writes integer parameters as strings ("100"); a plain JSON integer is accepted too. */
export function intParamAt(parent: JsonObject, key: string, place: JsonPlace, fallback?: number): number {
  const value = parent[key];
  const at: JsonPlace = place.child(key);
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined) at.fail("is missing");
  const parsed = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof parsed !== "number" || !Number.isSafeInteger(parsed)) at.fail(`must be an integer, not ${JSON.stringify(value)}`);
  return parsed;
}

/** One integer from an array of integers. */
export function intItem(items: unknown[], index: number, place: JsonPlace): number {
  const value = items[index];
  if (typeof value !== "number" || !Number.isSafeInteger(value)) return place.child(index).fail(`must be an integer, not ${JSON.stringify(value)}`);
  return value;
}

/** One finite number from an array, as the float32 XGBoost wrote it. */
export function float32Item(items: unknown[], index: number, place: JsonPlace): number {
  const value = items[index];
  if (typeof value !== "number" || !Number.isFinite(value)) return place.child(index).fail(`must be a finite number, not ${JSON.stringify(value)}`);
  return Math.fround(value);
}

/** A 0/1 (XGBoost 2.x+) or false/true (1.x) flag from an array. */
export function flagItem(items: unknown[], index: number, place: JsonPlace): boolean {
  const value = items[index];
  if (value === 0 || value === false) return false;
  if (value === 1 || value === true) return true;
  return place.child(index).fail(`must be 0 or 1, not ${JSON.stringify(value)}`);
}

/**
 * base_score as XGBoost writes it: "5E-1" (1.x/2.0), "[5E-1]" (2.1+, one value per target), or a
 * plain number. Exactly one value is accepted.
 */
export function baseScoreAt(parent: JsonObject, key: string, place: JsonPlace): number {
  const value = parent[key];
  const at: JsonPlace = place.child(key);
  if (value === undefined) at.fail("is missing");
  const items: unknown[] = typeof value === "string" ? splitBracketed(value) : Array.isArray(value) ? value : [value];
  if (items.length !== 1) at.fail(`must hold one value (single-target models only), not ${JSON.stringify(value)}`);
  const item = items[0];
  const number = typeof item === "string" && item.trim() !== "" ? Number(item) : item;
  if (typeof number !== "number" || !Number.isFinite(number)) at.fail(`must be a number, not ${JSON.stringify(value)}`);
  return number;
}

function splitBracketed(text: string): string[] {
  const trimmed = text.trim();
  const inner = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  return inner.split(",");
}
