// The relay's zstd codec for kafkajs (src/audit/relay/codec.ts): registered on import, round-trips,
// and the compression option is checked. The end-to-end path through a real broker (zstd, the
// default) is tests/relay-ship.test.ts.
import { describe, expect, test } from "bun:test";
import zlib from "node:zlib";
import { CompressionCodecs, CompressionTypes } from "kafkajs";
import { compressionType, zstdCompress, zstdDecompress } from "../src/audit/relay/codec.ts";
import { resolveRelayOptions } from "../src/audit/relay/options.ts";
import type { Outbox } from "../src/audit/outbox/index.ts";
import { testEvent } from "../src/audit/relay/testing.ts";

describe("relay zstd codec", () => {
  test("registered with kafkajs; compress/decompress round-trip, interoperable with node:zlib zstd", async () => {
    const codec = CompressionCodecs[CompressionTypes.ZSTD]();
    const payload = Buffer.from(Array.from({ length: 500 }, (_, i) => testEvent({ run: "codec", advertiser: `adv-${i % 30}`, seq: i })).join("\n"));
    const compressed: Buffer = await codec.compress({ buffer: payload });
    expect(compressed.length).toBeLessThan(payload.length / 3);
    expect(Buffer.from(await codec.decompress(compressed)).equals(payload)).toBe(true);
    const z = zlib as unknown as { zstdCompressSync?: (b: Buffer) => Buffer; zstdDecompressSync?: (b: Buffer) => Buffer };
    if (z.zstdCompressSync && z.zstdDecompressSync) {
      expect(zstdDecompress(z.zstdCompressSync(payload)).equals(payload)).toBe(true);
      expect(z.zstdDecompressSync(zstdCompress(payload)).equals(payload)).toBe(true);
    }
  });

  test("compression option: default zstd, gzip and none accepted, anything else refused", () => {
    const base = { outbox: {} as Outbox, brokers: ["127.0.0.1:9092"], clientId: "t" };
    expect(resolveRelayOptions(base).compression).toBe("zstd");
    expect(resolveRelayOptions({ ...base, compression: "gzip" }).compression).toBe("gzip");
    expect(compressionType("zstd")).toBe(CompressionTypes.ZSTD);
    expect(compressionType("gzip")).toBe(CompressionTypes.GZIP);
    expect(compressionType("none")).toBe(CompressionTypes.None);
    expect(() => resolveRelayOptions({ ...base, compression: "lz4" as never })).toThrow(/compression/);
  });
});
