import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { budgetStoreSuite } from "./store.suite.ts";
import { journaledStores } from "./journal.ts";

const dir = mkdtempSync(join(tmpdir(), "tmax-budget-journal-"));
const stores = journaledStores(join(dir, "suite.journal"));
budgetStoreSuite("embedded + journal", () => stores);

test("a restart replays the journal: the books are what they were, a retried id is still applied once", async () => {
  const path = join(dir, "restart.journal");
  const key = { campaign: "c1", day: "2026-12-04" };
  const first = journaledStores(path);
  await first.global.grant(key, "t1", "local", 600_000, 1_000_000);
  await first.region.credit(key, "t1", 600_000);
  await first.region.claim(key, "l1", 400_000, 30_000);
  await first.region.claim(key, "l2", 100_000, 30_000);
  await first.region.settle(key, "l1", 150_000);
  first.close();
  const second = journaledStores(path);
  expect(await second.global.books(key)).toEqual({ budgetMicros: 1_000_000, allocatedMicros: 600_000, unallocatedMicros: 400_000, byRegion: { local: 600_000 }, leaseReturnedByRegion: {} });
  expect(await second.region.books(key)).toMatchObject({ allocMicros: 600_000, leasedMicros: 100_000, spentMicros: 250_000, availableMicros: 250_000, liveLeases: 1 });
  expect((await second.global.grant(key, "t1", "local", 600_000, 1_000_000)).grantedMicros).toBe(600_000);
  expect(await second.region.credit(key, "t1", 600_000)).toBe(false);
  expect((await second.region.claim(key, "l3", 1_000_000, 30_000, 1)).grantedMicros).toBe(250_000);
  second.close();
});

afterAll(() => {
  stores.close();
  rmSync(dir, { recursive: true, force: true });
});
