import { afterAll, beforeAll } from "bun:test";
import { budgetStoreSuite, type StorePair } from "./store.suite.ts";
import { budgetRedis, RedisGlobalStore, RedisRegionStore, whenReady } from "./redis.ts";
import { useRedis } from "../../../tests/support/redis.ts";

const regionRedis = useRedis();
const globalRedis = useRedis();
let pair: StorePair | null = null;

beforeAll(async () => {
  const r = budgetRedis({ url: regionRedis().url, commandTimeoutMs: 2_000 });
  const g = budgetRedis({ url: globalRedis().url, commandTimeoutMs: 2_000 });
  await Promise.all([whenReady(r, 5_000), whenReady(g, 5_000)]);
  pair = { region: new RedisRegionStore(r), global: new RedisGlobalStore(g) };
});

budgetStoreSuite("redis", () => pair!);

afterAll(async () => {
  await pair?.region.close();
  await pair?.global.close();
});
