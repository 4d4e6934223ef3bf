// The relay's partitioner: the same partition for a key as kafkajs's DefaultPartitioner (and so as
// the Java client's: murmur2 of the key bytes, positive, modulo the partition count), computed with
// 32-bit integer arithmetic instead of kafkajs's emulated 64-bit Longs, which cost several
// microseconds per record and were the largest single item of the relay's profile. Records without
// a key (events that concern no advertiser) go round-robin over the partitions that have a leader,
// so they do not all pile onto one partition the way the empty key did.
import type { ICustomPartitioner, PartitionerArgs } from "kafkajs";

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2) of `data`, as a signed 32-bit int. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & 3;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) h = Math.imul(h ^ data[whole]!, M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const toPositive = (x: number) => x & 0x7fffffff;

/** kafkajs `createPartitioner`: keyed records by murmur2, unkeyed round-robin over live leaders. */
export const relayPartitioner: ICustomPartitioner = () => {
  let next = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }: PartitionerArgs): number => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    const key = message.key;
    if (key !== null && key !== undefined) {
      const bytes = typeof key === "string" ? Buffer.from(key) : key;
      return toPositive(murmur2(bytes)) % partitionMetadata.length;
    }
    const live = partitionMetadata.filter((p) => p.leader >= 0);
    next = (next + 1) & 0x7fffffff;
    return live.length > 0 ? live[next % live.length]!.partitionId : next % partitionMetadata.length;
  };
};
