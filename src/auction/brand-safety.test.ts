import { expect, test } from "bun:test";
import { blockLists, blockReason } from "./brand-safety.ts";

test("badv blocks the domain and its subdomains, case and www. aside", () => {
  const lists = blockLists(["Brand.com"], undefined);
  expect(blockReason(["brand.com"], undefined, lists)).toBe("badv");
  expect(blockReason(["www.BRAND.com"], undefined, lists)).toBe("badv");
  expect(blockReason(["shop.brand.com"], undefined, lists)).toBe("badv");
  expect(blockReason(["notbrand.com"], undefined, lists)).toBeNull();
  expect(blockReason(["brand.com.evil"], undefined, lists)).toBeNull();
  expect(blockReason(undefined, undefined, lists)).toBeNull();
});

test("bcat blocks the category and its subcategories", () => {
  const lists = blockLists(undefined, ["IAB7", "IAB25-3"]);
  expect(blockReason(undefined, ["IAB7"], lists)).toBe("bcat");
  expect(blockReason(undefined, ["IAB1", "IAB7-39"], lists)).toBe("bcat");
  expect(blockReason(undefined, ["IAB25-3"], lists)).toBe("bcat");
  expect(blockReason(undefined, ["IAB25-2"], lists)).toBeNull();
  expect(blockReason(undefined, ["IAB70"], lists)).toBeNull();
});
