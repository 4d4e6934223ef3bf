// Parquet encoding and decoding of archived events with hyparquet(-writer). Snappy is built in;
// ZSTD and GZIP use Bun's own zstd and node:zlib, so no native module is needed.
import { open } from "node:fs/promises";
import { gunzipSync, gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  parquetMetadataAsync, parquetReadObjects, rowIndex, type AsyncBuffer, type Compressors, type FileMetaData, type ParquetQueryFilter,
} from "hyparquet";
import { eventColumns, EVENT_JSON_COLUMN, REQUEST_ID_COLUMN, type ArchivableEvent } from "./columns.ts";
import { COLD_ZSTD_LEVEL, REQUEST_ID_BLOOM_FPP, REQUEST_ID_BLOOM_MAX_BYTES } from "./limits.ts";

export type ArchiveCodec = "SNAPPY" | "ZSTD" | "GZIP" | "UNCOMPRESSED";
const GZIP_LEVEL = 9;
/** Matching rows closer than this are read as one row range (one pass over their pages). */
const MAX_RUN_GAP_ROWS = 256;
const CREATED_BY = "tmax audit archive";

export interface EncodeOptions {
  codec: ArchiveCodec;
  rowGroupRows: number;
}

const compressors = {
  ZSTD: (input: Uint8Array) => Bun.zstdCompressSync(input, { level: COLD_ZSTD_LEVEL }),
  GZIP: (input: Uint8Array) => gzipSync(input, { level: GZIP_LEVEL }),
};

const decompressors: Compressors = {
  ZSTD: (input) => Bun.zstdDecompressSync(input),
  GZIP: (input) => gunzipSync(input),
};

/** One Parquet file holding `events` in the order given. */
export function encodeEvents(events: readonly ArchivableEvent[], options: EncodeOptions): Uint8Array {
  const bloom = { fpp: REQUEST_ID_BLOOM_FPP, maxBytes: REQUEST_ID_BLOOM_MAX_BYTES };
  const buffer = parquetWriteBuffer({
    columnData: eventColumns(events, bloom),
    codec: options.codec,
    compressors,
    rowGroupSize: options.rowGroupRows,
    createdBy: CREATED_BY,
  });
  return new Uint8Array(buffer);
}

export interface ReadFilter {
  /** Only rows with this request_id (row groups skipped by statistics and bloom filter). */
  requestId?: string;
}

/**
 * The events of a Parquet file (from its JSON column). The file is read through one open file
 * handle, so a concurrent rename over the path (a cold file replaced) never mixes two files.
 * Returns null when the file does not exist (anymore).
 */
export async function readEventsFile(path: string, filter: ReadFilter = {}): Promise<ArchivableEvent[] | null> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
  try {
    const file = await handleBuffer(handle);
    return await readEvents(file, filter);
  } finally {
    await handle.close();
  }
}

/** The events of a Parquet file already in memory (tests, verification). */
export async function readEvents(file: AsyncBuffer | ArrayBuffer, filter: ReadFilter = {}): Promise<ArchivableEvent[]> {
  const metadata = await parquetMetadataAsync(file);
  if (filter.requestId === undefined) {
    const rows = await parquetReadObjects({ file, metadata, columns: [EVENT_JSON_COLUMN], compressors: decompressors });
    return rows.map((row) => row[EVENT_JSON_COLUMN] as ArchivableEvent);
  }
  const matches = await matchingRows(file, metadata, filter.requestId);
  const events: ArchivableEvent[] = [];
  for (const run of rowRuns(matches)) {
    const rows = await parquetReadObjects({
      file, metadata, columns: [EVENT_JSON_COLUMN], rowStart: run.start, rowEnd: run.end, useOffsetIndex: true, compressors: decompressors,
    });
    for (const index of run.rows) events.push(rows[index - run.start]![EVENT_JSON_COLUMN] as ArchivableEvent);
  }
  return events;
}

/** Row numbers whose request_id is `requestId`: row groups whose statistics or bloom filter exclude it are not read. */
async function matchingRows(file: AsyncBuffer | ArrayBuffer, metadata: FileMetaData, requestId: string): Promise<number[]> {
  const filter: ParquetQueryFilter = { [REQUEST_ID_COLUMN]: { $eq: requestId } };
  const rows = await parquetReadObjects({
    file, metadata, columns: [REQUEST_ID_COLUMN], filter, useBloomFilters: true, includeRowIndex: true, compressors: decompressors,
  });
  return rows.map((row) => row[rowIndex]!).sort((a, b) => a - b);
}

/** Sorted row numbers grouped into runs that are read at once (rows closer than MAX_RUN_GAP_ROWS share one). */
function rowRuns(rows: number[]): { start: number; end: number; rows: number[] }[] {
  const runs: { start: number; end: number; rows: number[] }[] = [];
  for (const row of rows) {
    const last = runs.at(-1);
    if (last !== undefined && row - last.end < MAX_RUN_GAP_ROWS) {
      last.end = row + 1;
      last.rows.push(row);
    } else {
      runs.push({ start: row, end: row + 1, rows: [row] });
    }
  }
  return runs;
}

/** The number of rows a Parquet file declares in its footer. */
export async function countRows(file: AsyncBuffer | ArrayBuffer): Promise<number> {
  return Number((await parquetMetadataAsync(file)).num_rows);
}

type Handle = Awaited<ReturnType<typeof open>>;

async function handleBuffer(handle: Handle): Promise<AsyncBuffer> {
  const { size } = await handle.stat();
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const stop = Math.min(end ?? size, size);
      const bytes = new Uint8Array(Math.max(0, stop - start));
      let done = 0;
      while (done < bytes.length) {
        const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
        if (bytesRead === 0) throw new Error(`unexpected end of file at ${start + done} (size ${size})`);
        done += bytesRead;
      }
      return bytes.buffer;
    },
  };
}
