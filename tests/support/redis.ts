// A real redis-server for tests (scripts/services/redis.ts). A missing binary throws
// RedisMissingError: the test fails, in CI and locally alike, never skips.
import { afterAll, beforeAll } from "bun:test";
import { resolveRedisBinary, startRedis, type RedisService, type StartRedisOptions } from "../../scripts/services/redis.ts";

export type { RedisService, StartRedisOptions };

/** The redis-server path, or RedisMissingError (with the apt-get hint). */
export function requireRedis(binary?: string): string {
  return resolveRedisBinary(binary);
}

/** Runs `fn` against a fresh redis-server and stops it afterwards, whatever `fn` did. */
export async function withRedis<T>(fn: (redis: RedisService) => Promise<T>, opts: StartRedisOptions = {}): Promise<T> {
  const redis = await startRedis(opts);
  try {
    return await fn(redis);
  } finally {
    await redis.stop();
  }
}

/** One redis-server for the whole file: started in beforeAll, stopped in afterAll. */
export function useRedis(opts: StartRedisOptions = {}): () => RedisService {
  let redis: RedisService | undefined;
  beforeAll(async () => {
    redis = await startRedis(opts);
  });
  afterAll(async () => {
    await redis?.stop();
  });
  return () => {
    if (!redis) throw new Error("useRedis(): the server is not started yet (call it at file level, read it inside tests)");
    return redis;
  };
}
