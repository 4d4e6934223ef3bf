// Kafka record-batch compression for the relay and for every kafkajs client that reads its topic.
// kafkajs 2.2.4 ships only GZIP; this registers ZSTD (Kafka >= 2.1, Produce v7, which kafkajs uses)
// with the runtime's native zstd: Bun.zstd*Sync, or node:zlib's zstd where Bun is absent. Importing
// this module registers it once, for the whole process: a consumer of `bid-events` must import it
// (directly or through the relay / the ledger's kafka-consumer.ts), or kafkajs rejects zstd batches.
import zlib from "node:zlib";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { ZSTD_LEVEL } from "./limits.ts";

/** The relay's batch compression (option `compression`, config `audit.kafka.compression`). */
export type RelayCompression = "zstd" | "gzip" | "none";
export const RELAY_COMPRESSIONS: readonly RelayCompression[] = ["zstd", "gzip", "none"];

export function compressionType(compression: RelayCompression): CompressionTypes {
  switch (compression) {
    case "zstd": return CompressionTypes.ZSTD;
    case "gzip": return CompressionTypes.GZIP;
    case "none": return CompressionTypes.None;
  }
}

type Bytes = Uint8Array;
const bun = (globalThis as { Bun?: { zstdCompressSync(b: Bytes, o?: { level?: number }): Bytes; zstdDecompressSync(b: Bytes): Bytes } }).Bun;
const nodeZstd = zlib as unknown as {
  zstdCompressSync?: (b: Bytes, o?: object) => Buffer;
  zstdDecompressSync?: (b: Bytes) => Buffer;
  constants: Record<string, number>;
};

const asBuffer = (b: Bytes): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Synchronous (a 1 MiB batch takes ~2 ms at level 1: cheaper than a thread-pool round trip). */
export function zstdCompress(input: Bytes): Buffer {
  if (bun) return asBuffer(bun.zstdCompressSync(input, { level: ZSTD_LEVEL }));
  if (nodeZstd.zstdCompressSync) return nodeZstd.zstdCompressSync(input, { params: { [nodeZstd.constants.ZSTD_c_compressionLevel!]: ZSTD_LEVEL } });
  throw new Error("zstd is not available in this runtime (needs Bun or Node >= 22.15)");
}

export function zstdDecompress(input: Bytes): Buffer {
  if (bun) return asBuffer(bun.zstdDecompressSync(input));
  if (nodeZstd.zstdDecompressSync) return nodeZstd.zstdDecompressSync(input);
  throw new Error("zstd is not available in this runtime (needs Bun or Node >= 22.15)");
}

/** kafkajs's codec shape: compress gets its Encoder (`.buffer`), decompress the batch's record bytes. */
const ZSTD_CODEC = {
  async compress(encoder: { buffer: Buffer }): Promise<Buffer> {
    return zstdCompress(encoder.buffer);
  },
  async decompress(buffer: Buffer): Promise<Buffer> {
    return zstdDecompress(buffer);
  },
};

CompressionCodecs[CompressionTypes.ZSTD] = () => ZSTD_CODEC;

/** Importing the module is enough; this names the dependency where an import alone would look unused. */
export function registerZstdCodec(): void {
  CompressionCodecs[CompressionTypes.ZSTD] = () => ZSTD_CODEC;
}
