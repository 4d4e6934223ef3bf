// The on-disk format: segment files named by a 20-digit id, each a 16-byte header followed by
// length-prefixed, CRC32-checksummed records. Positions are (segment id, byte offset in the file).
//
//   segment file 00000000000000000007.seg
//   +------+---------+------------+---------------+----------------+----------------+---
//   | TMXO | version | header len | segment id    | record frame 0 | record frame 1 | ...
//   | 4 B  | u16 LE  | u16 LE =16 | u64 LE        |                |                |
//   +------+---------+------------+---------------+----------------+----------------+---
//   record frame
//   +--------------+--------------+---------------------+
//   | crc32 u32 LE | length u32 LE| payload (length B)  |
//   +--------------+--------------+---------------------+
//   crc32 (IEEE, Bun.hash.crc32) covers the length field and the payload, so a zero-filled
//   region never parses as a record (crc32 of four zero bytes is not zero).

export const SEGMENT_MAGIC = "TMXO";
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 8;
export const SEGMENT_SUFFIX = ".seg";
const SEGMENT_ID_DIGITS = 20;

export interface Position {
  segment: number;
  offset: number;
}

export function comparePositions(a: Position, b: Position): number {
  return a.segment !== b.segment ? a.segment - b.segment : a.offset - b.offset;
}

export function segmentFileName(id: number): string {
  return String(id).padStart(SEGMENT_ID_DIGITS, "0") + SEGMENT_SUFFIX;
}

/** The segment id of a file name, or null when the name is not a segment file. */
export function parseSegmentFileName(name: string): number | null {
  if (!name.endsWith(SEGMENT_SUFFIX)) return null;
  const digits = name.slice(0, -SEGMENT_SUFFIX.length);
  if (digits.length !== SEGMENT_ID_DIGITS || !/^\d+$/.test(digits)) return null;
  const id = Number(digits);
  return Number.isSafeInteger(id) ? id : null;
}

export function encodeSegmentHeader(id: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  header.write(SEGMENT_MAGIC, 0, "latin1");
  header.writeUInt16LE(FORMAT_VERSION, 4);
  header.writeUInt16LE(SEGMENT_HEADER_BYTES, 6);
  header.writeBigUInt64LE(BigInt(id), 8);
  return header;
}

/** Why a segment header is not valid, or null when it is the header of segment `id`. */
export function checkSegmentHeader(bytes: Uint8Array, id: number): string | null {
  if (bytes.length < SEGMENT_HEADER_BYTES) return "partial-segment-header";
  const header = Buffer.from(bytes.buffer, bytes.byteOffset, SEGMENT_HEADER_BYTES);
  if (header.toString("latin1", 0, 4) !== SEGMENT_MAGIC) return "bad-segment-magic";
  if (header.readUInt16LE(4) !== FORMAT_VERSION) return "unknown-format-version";
  if (header.readUInt16LE(6) !== SEGMENT_HEADER_BYTES) return "bad-segment-header";
  if (header.readBigUInt64LE(8) !== BigInt(id)) return "segment-id-mismatch";
  return null;
}

/** Bytes a record of `payloadBytes` takes on disk. */
export function frameBytes(payloadBytes: number): number {
  return FRAME_HEADER_BYTES + payloadBytes;
}

/** Writes the frame header for the payload already placed at `at + FRAME_HEADER_BYTES`. */
export function sealFrame(buf: Buffer, at: number, payloadBytes: number): void {
  buf.writeUInt32LE(payloadBytes, at + 4);
  buf.writeUInt32LE(Bun.hash.crc32(buf.subarray(at + 4, at + FRAME_HEADER_BYTES + payloadBytes)), at);
}

export type TornReason = "partial-header" | "length-past-eof" | "bad-checksum";

export type FrameCheck = { ok: true; payloadBytes: number } | { ok: false; reason: TornReason };

/** Checks the frame starting at `at`, with `available` bytes of the file present from `at` on. */
export function checkFrame(buf: Buffer, at: number, available: number): FrameCheck {
  if (available < FRAME_HEADER_BYTES) return { ok: false, reason: "partial-header" };
  const payloadBytes = buf.readUInt32LE(at + 4);
  if (payloadBytes > available - FRAME_HEADER_BYTES) return { ok: false, reason: "length-past-eof" };
  const crc = Bun.hash.crc32(buf.subarray(at + 4, at + FRAME_HEADER_BYTES + payloadBytes));
  if (crc !== buf.readUInt32LE(at)) return { ok: false, reason: "bad-checksum" };
  return { ok: true, payloadBytes };
}
