// One suite for every implementation of the budget books (embedded and Redis): the same calls must
// give the same books, and no sequence of grants, claims, settles and expiries creates money.
import { expect, test } from "bun:test";
import { reconcileLeaseReturns } from "../hierarchy.ts";
import type { CampaignDay, GlobalStore, RegionBooks, RegionStore } from "./types.ts";

export interface StorePair { region: RegionStore; global: GlobalStore }

let seq = 0;
const fresh = (): CampaignDay => ({ campaign: `c${Date.now().toString(36)}-${seq++}`, day: "2026-12-04" });

/** The region's books invariant: every micro it ever leased is in exactly one place. */
export function expectBalanced(b: RegionBooks): void {
  expect(b.leasedMicros + b.strandedMicros + b.spentMicros + b.releasedMicros + b.returnedMicros + b.returnedUpMicros).toBe(b.grantedMicros);
  expect(b.availableMicros).toBeGreaterThanOrEqual(0);
}

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
    expect(await global.books(key)).toEqual({ budgetMicros: 1_000, allocatedMicros: 200, unallocatedMicros: 800, byRegion: { eu: 200 }, leaseReturnedByRegion: {} });
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

  test(`${name}: a lease remainder given straight to global is credited once, never more than the region holds, listed until acked`, async () => {
    const { global } = stores();
    const key = fresh();
    const down = `down-${key.campaign}`; // a region of its own: the list of returns is per region
    expect(await global.returnLease(key, "p:e:l0", down, 1)).toBe(false); // no books for the day: nothing to return to
    expect((await global.grant(key, "t1", down, 600, 1_000)).grantedMicros).toBe(600);
    expect(await global.returnLease(key, "p:e:l1", down, 400)).toBe(true);
    expect(await global.returnLease(key, "p:e:l1", down, 400)).toBe(false);
    await expect(global.returnLease(key, "p:e:l2", down, 201)).rejects.toThrow(/holds 200/);
    expect(await global.books(key)).toEqual({ budgetMicros: 1_000, allocatedMicros: 200, unallocatedMicros: 800, byRegion: { [down]: 200 }, leaseReturnedByRegion: { [down]: 400 } });
    expect((await global.grant(key, "t2", "other", 1_000, 1_000)).grantedMicros).toBe(800); // another region claims it
    expect(await global.leaseReturns(down, 100)).toEqual([{ key, leaseId: "p:e:l1", amountMicros: 400 }]);
    await global.ackLeaseReturn(key, down, "p:e:l1");
    expect(await global.leaseReturns(down, 100)).toEqual([]);
    expect(await global.returnLease(key, "p:e:l1", down, 400)).toBe(false); // still once after the ack
    expect((await global.books(key)).allocatedMicros).toBe(1_000);
  });

  test(`${name}: settleUp closes a live lease: its remainder leaves alloc (returned upward), never available here; once; a plain settle after it changes nothing`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "a", 400, 30_000);
    await region.claim(key, "b", 300, 30_000);
    await expect(region.settleUp(key, "a", 401)).rejects.toThrow(/granted/);
    expect(await region.settleUp(key, "a", 150)).toEqual({ settled: true, upMicros: 0 });
    const after = await region.books(key);
    expect(after).toMatchObject({ allocMicros: 850, leasedMicros: 300, spentMicros: 250, availableMicros: 300, grantedMicros: 700, returnedMicros: 0, returnedUpMicros: 150, liveLeases: 1 });
    expectBalanced(after);
    expect(await region.settleUp(key, "a", 150)).toEqual({ settled: false, upMicros: 0 });
    expect(await region.settle(key, "a", 150)).toEqual({ settled: false, upMicros: 0 }); // the remainder is global's
    expect(await region.books(key)).toEqual(after);
    // b was the last live lease: the idle 300 is handed up as usual.
    expect(await region.settleUp(key, "b", 100)).toEqual({ settled: true, upMicros: 300 });
    expect(await region.settleUp(key, "b", 100)).toEqual({ settled: false, upMicros: 300 });
    const end = await region.books(key);
    expect(end).toMatchObject({ allocMicros: 450, leasedMicros: 0, spentMicros: 450, availableMicros: 0, returnedUpMicros: 250, liveLeases: 0 });
    expectBalanced(end);
    expect(await region.settleUp(key, "unknown", 0)).toEqual({ settled: false, upMicros: 0 });
  });

  test(`${name}: settleUp of a lease the region already stranded: stranded -> spent + returned upward, available unchanged`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "dead", 300, 20);
    await region.claim(key, "alive", 300, 60_000);
    await Bun.sleep(60);
    await region.expire(0);
    expect(await region.books(key)).toMatchObject({ leasedMicros: 300, strandedMicros: 300, availableMicros: 400 });
    expect(await region.settleUp(key, "dead", 120)).toEqual({ settled: true, upMicros: 0 });
    const b = await region.books(key);
    expect(b).toMatchObject({ allocMicros: 880, leasedMicros: 300, strandedMicros: 0, spentMicros: 180, availableMicros: 400, returnedUpMicros: 120 });
    expectBalanced(b);
    // The only lease stranded: the idle allocation was handed up at expiry; settleUp leaves nothing available.
    const lone = fresh();
    await region.credit(lone, "t1", 1_000);
    await region.claim(lone, "only", 300, 20);
    await Bun.sleep(60);
    await region.expire(0);
    expect(await region.books(lone)).toMatchObject({ allocMicros: 300, strandedMicros: 300, availableMicros: 0 });
    expect(await region.settleUp(lone, "only", 120)).toEqual({ settled: true, upMicros: 0 });
    const l = await region.books(lone);
    expect(l).toMatchObject({ allocMicros: 180, strandedMicros: 0, spentMicros: 180, availableMicros: 0, returnedUpMicros: 120 });
    expectBalanced(l);
  });

  test(`${name}: settleUp of a lease closed by a plain settle is a conflict and changes nothing`, async () => {
    const { region } = stores();
    const key = fresh();
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "a", 400, 30_000);
    await region.claim(key, "b", 100, 30_000);
    await region.settle(key, "a", 100);
    const before = await region.books(key);
    expectBalanced(before);
    expect(await region.settleUp(key, "a", 100)).toEqual({ settled: false, upMicros: 0, conflict: true });
    expect(await region.books(key)).toEqual(before);
  });

  test(`${name}: region down and back: a remainder given to global is claimed by another region, the region's books close with it, nothing twice`, async () => {
    const { region, global } = stores();
    const key = fresh();
    const down = `down-${key.campaign}`;
    await global.grant(key, "t1", down, 1_000, 1_000);
    await region.credit(key, "t1", 1_000);
    await region.claim(key, "l1", 600, 30_000);
    await region.claim(key, "l2", 400, 30_000);
    // The region is unreachable: l1's pod spent 100 and gives its remainder to global; another region claims it.
    expect(await global.returnLease(key, "l1", down, 500)).toBe(true);
    expect((await global.grant(key, "t2", "other", 1_000, 1_000)).grantedMicros).toBe(500);
    // Back: l2 settles as usual (300 spent), l1 is closed from global's list.
    expect(await region.settle(key, "l2", 100)).toEqual({ settled: true, upMicros: 0 });
    expect(await reconcileLeaseReturns(region, global, down)).toBe(1);
    expect(await reconcileLeaseReturns(region, global, down)).toBe(0);
    const r = await region.books(key);
    expect(r).toMatchObject({ allocMicros: 400, leasedMicros: 0, spentMicros: 400, availableMicros: 0, returnedMicros: 100, returnedUpMicros: 500 });
    expectBalanced(r);
    const g = await global.books(key);
    expect(g).toEqual({ budgetMicros: 1_000, allocatedMicros: 900, unallocatedMicros: 100, byRegion: { [down]: 400, other: 500 }, leaseReturnedByRegion: { [down]: 500 } });
    expect(r.allocMicros).toBe(g.byRegion[down]!); // nothing in transit: the region holds what global says it does
    expect(r.returnedUpMicros).toBe(g.leaseReturnedByRegion[down]!);
    expect(r.spentMicros + g.byRegion.other! + g.unallocatedMicros).toBe(1_000); // every micro once
  });

  test(`${name}: once() is true only the first time within its TTL`, async () => {
    const { region } = stores();
    const k = `n-${fresh().campaign}`;
    expect(await region.once(k, 60_000)).toBe(true);
    expect(await region.once(k, 60_000)).toBe(false);
  });
}
