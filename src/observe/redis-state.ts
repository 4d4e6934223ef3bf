// The frequency-cap store's Redis, as the answering worker sees it (every worker has its own
// connection to the same Redis; gauges only, so a scrape answered by another worker stays consistent).
import { Gauge, type Registry } from "prom-client";
import type { RedisCapStore } from "../freqcap/remote.ts";

export function registerRedisState(registry: Registry, store: RedisCapStore): void {
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() { this.set(value()); } });
  gauge("tmax_redis_connected", "1 while the answering worker's frequency-cap Redis connection is ready, else 0.", () => (store.connected() ? 1 : 0));
  gauge("tmax_freqcap_redis_pending_keys", "Frequency-cap counts waiting to be written to Redis (answering worker).", () => store.stats().pendingKeys);
  gauge("tmax_freqcap_redis_failures", "Redis flush, fetch and connection errors since the answering worker started.", () => {
    const s = store.stats();
    return s.flushErrors + s.fetchErrors + s.fetchTimeouts + s.connectionErrors;
  });
}
