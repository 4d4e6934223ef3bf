import { expect, test } from "bun:test";
import { checkSchain } from "./schain.ts";
import { isCrawler, uaBrowserMajor, uaOs, OS_IOS, OS_WINDOWS } from "./user-agent.ts";

const node = (over: Record<string, unknown> = {}) => ({ asi: "exchange.example", sid: "s1", hp: 1, ...over });
const open = { required: false, sellers: null };

test("schain: complete and well-formed passes; missing passes unless required", () => {
  expect(checkSchain({ schain: { complete: 1, ver: "1.0", nodes: [node()] } }, open)).toBeNull();
  expect(checkSchain({}, open)).toBeNull();
  expect(checkSchain(undefined, { required: true, sellers: null })).toBe("schain_incomplete");
  expect(checkSchain({ ext: { schain: { complete: 1, nodes: [node()] } } }, open)).toBeNull(); // 2.5 placement
});

test("schain: incomplete (16), malformed nodes (16), sellers off the allow-list (17)", () => {
  expect(checkSchain({ schain: { complete: 0, nodes: [node()] } }, open)).toBe("schain_incomplete");
  expect(checkSchain({ schain: { complete: 1, nodes: [] } }, open)).toBe("schain_malformed");
  expect(checkSchain({ schain: { complete: 1, nodes: [node({ asi: "not a domain" })] } }, open)).toBe("schain_malformed");
  expect(checkSchain({ schain: { complete: 1, nodes: [node({ sid: "" })] } }, open)).toBe("schain_malformed");
  expect(checkSchain({ schain: { complete: 1, nodes: [node({ hp: 0 })] } }, open)).toBe("schain_malformed");
  expect(checkSchain({ schain: "x" }, open)).toBe("schain_malformed");
  const sellers = { required: false, sellers: new Set(["exchange.example:s1", "ssp.example"]) };
  expect(checkSchain({ schain: { complete: 1, nodes: [node(), node({ asi: "ssp.example", sid: "any" })] } }, sellers)).toBeNull();
  expect(checkSchain({ schain: { complete: 1, nodes: [node({ sid: "s2" })] } }, sellers)).toBe("schain_seller_blocked");
});

test("user agents: crawlers from isbot, OS and version probes", () => {
  expect(isCrawler("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")).toBe(true);
  expect(isCrawler("python-requests/2.31.0")).toBe(true);
  expect(isCrawler("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")).toBe(false);
  expect(uaOs("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)")).toBe(OS_IOS);
  expect(uaOs("Mozilla/5.0 (Windows NT 10.0; Win64; x64)")).toBe(OS_WINDOWS);
  expect(uaBrowserMajor("Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")).toBe(124);
  expect(uaBrowserMajor("curl/8")).toBeNaN();
});
