// The relay's partitioner against kafkajs's own DefaultPartitioner: same partition for every key
// (so switching changes no key's partition), and unkeyed records spread instead of piling up.
import { describe, expect, test } from "bun:test";
import { Partitioners } from "kafkajs";
import { murmur2, relayPartitioner } from "./partitioner.ts";
import { makeRng } from "../../util/rng.ts";

// kafkajs's Long-based implementation, the reference.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const kafkajsMurmur2: (key: Buffer) => number = require("kafkajs/src/producer/partitioners/default/murmur2.js");

const metadata = (n: number, dead: number[] = []) =>
  Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: dead.includes(i) ? -1 : 0, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }));

describe("relay partitioner", () => {
  test("murmur2 equals kafkajs's for 20,000 random keys of every length 0-40", () => {
    const random = makeRng(42);
    for (let i = 0; i < 20_000; i++) {
      const key = Buffer.alloc(i % 41);
      for (let b = 0; b < key.length; b++) key[b] = Math.floor(random() * 256);
      expect(murmur2(key)).toBe(kafkajsMurmur2(key));
    }
  });

  test("keyed records land where kafkajs's DefaultPartitioner puts them", () => {
    const ours = relayPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    for (const partitions of [1, 3, 12, 50]) {
      const partitionMetadata = metadata(partitions);
      for (let a = 0; a < 500; a++) {
        for (const key of [`adv-${a}`, Buffer.from(`advertiser-${a * 7919}`)]) {
          const args = { topic: "bid-events", partitionMetadata, message: { key, value: "x" } };
          expect(ours(args)).toBe(theirs(args));
        }
      }
    }
  });

  test("unkeyed records go round-robin over partitions with a leader", () => {
    const partition = relayPartitioner();
    const partitionMetadata = metadata(6, [2]);
    const seen = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const p = partition({ topic: "bid-events", partitionMetadata, message: { key: null, value: "x" } });
      seen.set(p, (seen.get(p) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual([0, 1, 3, 4, 5]);
    for (const count of seen.values()) expect(count).toBe(120);
  });

  test("an explicit partition wins", () => {
    expect(relayPartitioner()({ topic: "t", partitionMetadata: metadata(4), message: { key: "adv-1", value: "x", partition: 3 } })).toBe(3);
  });
});
