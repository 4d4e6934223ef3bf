// One suite for every implementation of the budget books (embedded and Redis): the same calls must
// give the same books, and no sequence of grants, claims, settles and expiries creates money.
import { expect, test } from "bun:test";
import type { CampaignDay, GlobalStore, RegionStore } from "./types.ts";

export interface StorePair { region: RegionStore; global: GlobalStore }

let seq = 0;
const fresh = (): CampaignDay => ({ campaign: `c${Date.now().toString(36)}-${seq++}`, day: "2026-12-04" });

export function budgetStoreSuite(name: string, stores: () => StorePair): void {
  test(`${name}: global grants never exceed the day budget, even all at once`, async () => {
    const { global } = stores();
    const key = fresh();
    const grants = await Promise.all(Array.from({ length: 40 }, (_, i) => global.grant(key, `t${i}`, `r${i % 3}`, 70_000, 1_000_000)));
    const total = grants.reduce((s, g) => s + g.grantedMicros, 0);
    expect(total).toBe(1_000_000);
    const books = await global.books(key);
    expect(books.allocatedMicros).toBe(1_000_000);
    expect(books.unallocatedMicros).toBe(0);
    expect(Object.values(books.byRegion).reduce((s, v) => s + v, 0)).toBe(1_000_000);
  });

  test(`${name}: a repeated transfer id grants once; give-back is once and never more than held`, async () => {
    const { global } = stores();
    const key = fresh();
    expect((await global.grant(key, "t1", "eu", 300, 1_000)).grantedMicros).toBe(300);
    expect((await global.grant(key, "t1", "eu", 300, 1_000)).grantedMicros).toBe(300);
    expect((await global.books(key)).allocatedMicros).toBe(300);
    expect(await global.giveBack(key, "b1", "eu", 100)).toBe(true);
    expect(await global.giveBack(key, "b1", "eu", 100)).toBe(false);
    await expect(global.giveBack(key, "b2", "eu", 201)).rejects.toThrow(/holds 200/);
    expect(await global.books(key)).toEqual({ budgetMicros: 1_000, allocatedMicros: 200, unallocatedMicros: 800, byRegion: { eu: 200 } });
  });

  test(`${name}: region leases never exceed the region's allocation; a repeated lease id is the same lease`, async () => {
    const { region } = stores();
    const key = fresh();
    expect((await region.claim(key, "p:1", 100, 30_000)).grantedMicros).toBe(0);
    expect(await region.credit(key, "t1", 1_000)).toBe(true);
    expect(await region.credit(key, "t1", 1_000)).toBe(false);
    const claims = await Promise.all(Array.from({ length: 30 }, (_, i) => region.claim(key, `p:${i + 2}`, 70, 30_000)));
    expect(claims.reduce((s, c) => s + c.grantedMicros, 0)).toBe(1_000);
    expect((await region.claim(key, "p:2", 70, 30_000)).grantedMicros).toBe(70);
    await region.credit(key, "t2", 50);
    expect((await region.claim(key, "p:99", 70, 30_000, 70)).grantedMicros).toBe(0); // all or nothing
    expect((await region.claim(key, "p:99", 70, 30_000, 1)).grantedMicros).toBe(50);
    const books = await region.books(key);
    expect(books).toMatchObject({ allocMicros: 1_050, leasedMicros: 1_050, availableMicros: 0, spentMicros: 0 });
  });

  test(`${name}: settle counts the unreturned part as spent, once; the last settle hands idle allocation up`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "a", 400, 30_000);
    await region.claim(key, "b", 400, 30_000);
    await expect(region.settle(key, "a", 401)).rejects.toThrow(/granted/);
    expect(await region.settle(key, "a", 150)).toEqual({ settled: true, upMicros: 0 });
    expect(await region.settle(key, "a", 150)).toEqual({ settled: false, upMicros: 0 });
    expect(await region.books(key)).toMatchObject({ allocMicros: 1_000, leasedMicros: 400, spentMicros: 250, availableMicros: 350, liveLeases: 1 });
    // b was the last live lease: 350 idle + 400 returned go back up (alloc shrinks by them).
    expect(await region.settle(key, "b", 400)).toEqual({ settled: true, upMicros: 750 });
    // A retry (first reply lost) is told the same hand-up, so the caller can give it back (idempotently).
    expect(await region.settle(key, "b", 400)).toEqual({ settled: false, upMicros: 750 });
    expect(await region.books(key)).toMatchObject({ allocMicros: 250, leasedMicros: 0, spentMicros: 250, availableMicros: 0, liveLeases: 0 });
    expect(await region.settle(key, "unknown", 0)).toEqual({ settled: false, upMicros: 0 });
  });

  test(`${name}: an unsettled lease strands after expiry + grace (counted spent); a late settle gives back what it returns`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "dead", 300, 20);
    await region.claim(key, "alive", 300, 60_000);
    await Bun.sleep(60);
    expect(await region.expire(10_000)).toBe(0); // within grace
    expect(await region.expire(0)).toBeGreaterThanOrEqual(1);
    expect(await region.books(key)).toMatchObject({ leasedMicros: 300, strandedMicros: 300, availableMicros: 400, liveLeases: 1 });
    expect((await region.settle(key, "dead", 120)).settled).toBe(true);
    expect(await region.books(key)).toMatchObject({ strandedMicros: 0, spentMicros: 180, availableMicros: 520 });
  });

  test(`${name}: a campaign whose last live lease strands hands its idle allocation up, remembered until acknowledged`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "only", 300, 20);
    await Bun.sleep(60);
    await region.expire(0);
    expect(await region.books(key)).toMatchObject({ allocMicros: 300, leasedMicros: 0, strandedMicros: 300, availableMicros: 0 });
    const ups = (await region.handUps(10_000)).filter((h) => h.key.campaign === key.campaign);
    expect(ups).toEqual([{ key, leaseId: "only", upMicros: 700 }]);
    await region.ackHandUp(key, "only");
    expect((await region.handUps(10_000)).filter((h) => h.key.campaign === key.campaign)).toEqual([]);
  });

  test(`${name}: a release (loss notice) is applied once and lowers spent`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "a", 500, 30_000);
    await region.claim(key, "b", 100, 30_000);
    await region.settle(key, "a", 0);
    expect(await region.release(key, "rel-1", 40)).toBe(true);
    expect(await region.release(key, "rel-1", 40)).toBe(false);
    expect(await region.books(key)).toMatchObject({ spentMicros: 460, availableMicros: 440 });
  });

  test(`${name}: once() is true only the first time within its TTL`, async () => {
    const { region } = stores();
    const k = `n-${fresh().campaign}`;
    expect(await region.once(k, 60_000)).toBe(true);
    expect(await region.once(k, 60_000)).toBe(false);
  });
}
