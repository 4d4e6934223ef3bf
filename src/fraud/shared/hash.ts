// 32-bit FNV-1a over a string's UTF-16 code units, seeded: two seeds give the two key words of a
// shared-table entry (a 64-bit key; a false match needs both to collide). No allocation.
export const SEED_A = 0x811c9dc5;
export const SEED_B = 0x9747b28c;

export function fnv1a(text: string, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h === 0 ? 1 : h; // 0 marks an empty entry
}

/** Mixes a 32-bit number into a hash (for keys that are numbers, e.g. a /24 prefix). */
export function mix32(x: number, seed: number): number {
  let h = Math.imul((x ^ seed) | 0, 0x9e3779b1);
  h ^= h >>> 15;
  h = Math.imul(h, 0x85ebca77);
  h ^= h >>> 13;
  return h === 0 ? 1 : h;
}
