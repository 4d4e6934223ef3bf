// The distributed budget books: one Redis per region (region allocator) and one for the global
// coordinator, every mutation one atomic Lua script (lua.ts). Clients fail fast when Redis is down
// (no offline queue, a command timeout): callers keep the operation and retry it with the same id.
import Redis from "ioredis";
import { ACK_HANDUP, APPLY_ONCE, CLAIM, EXPIRE, GIVE_BACK, GRANT, HANDUPS, LEASE_RETURNS, RETURN_LEASE, SETTLE, SETTLE_UP } from "./lua.ts";
import {
  assertMicros, StoreUnreachableError, type CampaignDay, type GlobalBooks, type GlobalStore, type LeaseGrant, type LeaseReturn, type RegionBooks, type RegionStore,
  type SettleResult,
} from "./types.ts";

export const KEY_PREFIX = "tmax:budget:";
/** Leases stranded per expiry call (the next call takes the rest). */
export const EXPIRE_BATCH = 500;

export interface BudgetRedisOptions {
  url: string;
  /** A command not answered within this fails (the caller retries later). */
  commandTimeoutMs: number;
}

export function budgetRedis(opts: BudgetRedisOptions): Redis {
  const client = new Redis(opts.url, {
    commandTimeout: opts.commandTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: false,
    retryStrategy: (times) => Math.min(50 * times, 1_000),
  });
  client.on("error", () => { /* reconnects by itself; callers see failed commands */ });
  return client;
}

type Scripted = Redis & {
  tmaxClaim(books: string, zset: string, id: string, want: number, ttl: number, min: number): Promise<[number, number]>;
  tmaxSettle(books: string, zset: string, id: string, returned: number): Promise<[number, number]>;
  tmaxSettleUp(books: string, zset: string, id: string, returned: number): Promise<[number, number]>;
  tmaxApplyOnce(books: string, id: string, amount: number, field: string, delta: number, ...total: Array<string | number>): Promise<number>;
  tmaxExpire(zset: string, handUps: string, graceMs: number, batch: number): Promise<[number, number]>;
  tmaxHandUps(zset: string, limit: number): Promise<string[]>;
  tmaxAckHandUp(zset: string, books: string, member: string, id: string): Promise<number>;
  tmaxGrant(books: string, id: string, region: string, want: number, budget: number): Promise<[number, number]>;
  tmaxGiveBack(books: string, id: string, region: string, amount: number): Promise<number>;
  tmaxReturnLease(books: string, zset: string, id: string, region: string, amount: number, member: string): Promise<number>;
  tmaxLeaseReturns(zset: string, limit: number): Promise<string[]>;
};

function define(client: Redis): Scripted {
  const c = client as Scripted;
  c.defineCommand("tmaxClaim", { numberOfKeys: 2, lua: CLAIM });
  c.defineCommand("tmaxSettle", { numberOfKeys: 2, lua: SETTLE });
  c.defineCommand("tmaxSettleUp", { numberOfKeys: 2, lua: SETTLE_UP });
  c.defineCommand("tmaxReturnLease", { numberOfKeys: 2, lua: RETURN_LEASE });
  c.defineCommand("tmaxLeaseReturns", { numberOfKeys: 1, lua: LEASE_RETURNS });
  c.defineCommand("tmaxApplyOnce", { numberOfKeys: 1, lua: APPLY_ONCE });
  c.defineCommand("tmaxExpire", { numberOfKeys: 2, lua: EXPIRE });
  c.defineCommand("tmaxHandUps", { numberOfKeys: 1, lua: HANDUPS });
  c.defineCommand("tmaxAckHandUp", { numberOfKeys: 2, lua: ACK_HANDUP });
  c.defineCommand("tmaxGrant", { numberOfKeys: 1, lua: GRANT });
  c.defineCommand("tmaxGiveBack", { numberOfKeys: 1, lua: GIVE_BACK });
  return c;
}

const regionKey = (k: CampaignDay) => `${KEY_PREFIX}r:{${k.campaign}}:${k.day}`;
const globalKey = (k: CampaignDay) => `${KEY_PREFIX}g:{${k.campaign}}:${k.day}`;
const EXPIRY_KEY = `${KEY_PREFIX}r:expiry`;
const HANDUP_KEY = `${KEY_PREFIX}r:handups`;
const REGION_KEY = new RegExp(`^${KEY_PREFIX}r:\\{(.*)\\}:(\\d{4}-\\d{2}-\\d{2})$`);
const GLOBAL_KEY = new RegExp(`^${KEY_PREFIX}g:\\{(.*)\\}:(\\d{4}-\\d{2}-\\d{2})$`);
/** Per region, in the global Redis: lease returns the region has not acknowledged yet. */
const leaseReturnsKey = (region: string) => `${KEY_PREFIX}g:leasereturns:${region}`;

/** ioredis rejects a command before writing it when the stream is not writable and the offline queue is off
 *  (ioredis 6, Redis.sendCommand): such a command was never sent. */
const NOT_WRITTEN = /enableOfflineQueue (options )?is false/;

export class RedisRegionStore implements RegionStore {
  private readonly redis: Scripted;

  constructor(client: Redis) {
    this.redis = define(client);
  }

  async claim(key: CampaignDay, leaseId: string, wantMicros: number, ttlMs: number, minMicros = 1): Promise<LeaseGrant> {
    assertMicros(wantMicros, "wantMicros");
    const [granted, available] = await this.redis.tmaxClaim(regionKey(key), EXPIRY_KEY, leaseId, wantMicros, ttlMs, minMicros);
    return { grantedMicros: Number(granted), availableMicros: Number(available) };
  }

  /** A settle that fails with StoreUnreachableError was provably never sent (the client was not connected, so
   *  the command was not written); any other failure may have been applied (or may still be). */
  async settle(key: CampaignDay, leaseId: string, returnedMicros: number): Promise<SettleResult> {
    assertMicros(returnedMicros, "returnedMicros");
    if (this.redis.status !== "ready") throw new StoreUnreachableError(`region redis ${this.redis.status}: settle not sent`);
    let reply: [number, number];
    try {
      reply = await this.redis.tmaxSettle(regionKey(key), EXPIRY_KEY, leaseId, returnedMicros);
    } catch (err) {
      if (NOT_WRITTEN.test(String((err as Error).message))) throw new StoreUnreachableError(`region redis: settle not sent (${(err as Error).message})`);
      throw err;
    }
    const [settled, up] = reply;
    return { settled: Number(settled) === 1, upMicros: Number(up) };
  }

  async settleUp(key: CampaignDay, leaseId: string, upMicros: number): Promise<SettleResult> {
    assertMicros(upMicros, "upMicros");
    const [settled, up] = await this.redis.tmaxSettleUp(regionKey(key), EXPIRY_KEY, leaseId, upMicros);
    if (Number(settled) === -1) return { settled: false, upMicros: 0, conflict: true };
    return { settled: Number(settled) === 1, upMicros: Number(up) };
  }

  async credit(key: CampaignDay, transferId: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    return (await this.redis.tmaxApplyOnce(regionKey(key), transferId, amountMicros, "alloc", amountMicros)) === 1;
  }

  async release(key: CampaignDay, releaseId: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    return (await this.redis.tmaxApplyOnce(regionKey(key), releaseId, amountMicros, "spent", -amountMicros, "released", amountMicros)) === 1;
  }

  async expire(graceMs: number): Promise<number> {
    let total = 0;
    for (;;) {
      const [stranded, processed] = await this.redis.tmaxExpire(EXPIRY_KEY, HANDUP_KEY, graceMs, EXPIRE_BATCH);
      total += Number(stranded);
      if (Number(processed) < EXPIRE_BATCH) return total;
    }
  }

  async handUps(limit: number): Promise<Array<{ key: CampaignDay; leaseId: string; upMicros: number }>> {
    const flat = await this.redis.tmaxHandUps(HANDUP_KEY, limit);
    const out: Array<{ key: CampaignDay; leaseId: string; upMicros: number }> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [books, leaseId] = flat[i]!.split("\n");
      const m = REGION_KEY.exec(books!);
      if (m !== null) out.push({ key: { campaign: m[1]!, day: m[2]! }, leaseId: leaseId!, upMicros: Number(flat[i + 1]) });
    }
    return out;
  }

  async ackHandUp(key: CampaignDay, leaseId: string): Promise<void> {
    await this.redis.tmaxAckHandUp(HANDUP_KEY, regionKey(key), `${regionKey(key)}\n${leaseId}`, leaseId);
  }

  async books(key: CampaignDay): Promise<RegionBooks> {
    const all = await this.redis.hgetall(regionKey(key));
    const num = (f: string) => Number(all[f] ?? 0);
    let live = 0;
    for (const [f, v] of Object.entries(all)) if (f.startsWith("l:") && v.endsWith(":live")) live++;
    const b = { allocMicros: num("alloc"), leasedMicros: num("leased"), spentMicros: num("spent"), strandedMicros: num("stranded") };
    return {
      ...b, availableMicros: b.allocMicros - b.leasedMicros - b.spentMicros - b.strandedMicros, liveLeases: live,
      grantedMicros: num("granted"), releasedMicros: num("released"), returnedMicros: num("returned"), returnedUpMicros: num("returnedUp"),
    };
  }

  /** Every lease of a campaign day (audits: what each pod was granted, returned, or stranded). */
  async leases(key: CampaignDay): Promise<Array<{ id: string; grantedMicros: number; state: string; returnedMicros: number | null }>> {
    const all = await this.redis.hgetall(regionKey(key));
    return Object.entries(all).filter(([f]) => f.startsWith("l:")).map(([f, v]) => {
      const [granted, , state, returned] = v.split(":");
      return { id: f.slice(2), grantedMicros: Number(granted), state: state!, returnedMicros: returned === undefined ? null : Number(returned) };
    });
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`${KEY_PREFIX}once:${key}`, "1", "PX", ttlMs, "NX")) === "OK";
  }

  /** Start-up: resolves once connected, rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    return whenReady(this.redis, timeoutMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class RedisGlobalStore implements GlobalStore {
  private readonly redis: Scripted;

  constructor(client: Redis) {
    this.redis = define(client);
  }

  async grant(key: CampaignDay, transferId: string, region: string, wantMicros: number, budgetMicros: number): Promise<{ grantedMicros: number; unallocatedMicros: number }> {
    assertMicros(wantMicros, "wantMicros");
    assertMicros(budgetMicros, "budgetMicros");
    const [granted, unallocated] = await this.redis.tmaxGrant(globalKey(key), transferId, region, wantMicros, budgetMicros);
    return { grantedMicros: Number(granted), unallocatedMicros: Number(unallocated) };
  }

  async giveBack(key: CampaignDay, transferId: string, region: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    return (await this.redis.tmaxGiveBack(globalKey(key), transferId, region, amountMicros)) === 1;
  }

  async returnLease(key: CampaignDay, leaseId: string, region: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    return (await this.redis.tmaxReturnLease(globalKey(key), leaseReturnsKey(region), leaseId, region, amountMicros, `${globalKey(key)}\n${leaseId}`)) === 1;
  }

  async leaseReturns(region: string, limit: number): Promise<LeaseReturn[]> {
    const flat = await this.redis.tmaxLeaseReturns(leaseReturnsKey(region), limit);
    const out: LeaseReturn[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [books, leaseId] = flat[i]!.split("\n");
      const m = GLOBAL_KEY.exec(books!);
      if (m !== null) out.push({ key: { campaign: m[1]!, day: m[2]! }, leaseId: leaseId!, amountMicros: Number(flat[i + 1]) });
    }
    return out;
  }

  async ackLeaseReturn(key: CampaignDay, region: string, leaseId: string): Promise<void> {
    await this.redis.zrem(leaseReturnsKey(region), `${globalKey(key)}\n${leaseId}`);
  }

  async books(key: CampaignDay): Promise<GlobalBooks> {
    const all = await this.redis.hgetall(globalKey(key));
    const budget = Number(all.budget ?? 0);
    const allocated = Number(all.allocated ?? 0);
    const byRegion: Record<string, number> = {};
    const leaseReturnedByRegion: Record<string, number> = {};
    for (const [f, v] of Object.entries(all)) {
      if (f.startsWith("r:")) byRegion[f.slice(2)] = Number(v);
      else if (f.startsWith("lrt:")) leaseReturnedByRegion[f.slice(4)] = Number(v);
    }
    return { budgetMicros: budget, allocatedMicros: allocated, unallocatedMicros: budget - allocated, byRegion, leaseReturnedByRegion };
  }

  /** Start-up: resolves once connected, rejects after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    return whenReady(this.redis, timeoutMs);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Resolves once the client can take commands (start-up), rejects after `timeoutMs`. */
export async function whenReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis not ready within ${timeoutMs} ms`)), timeoutMs);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
