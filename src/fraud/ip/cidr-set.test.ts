import { expect, test } from "bun:test";
import { CidrError, CidrSet } from "./cidr-set.ts";
import { parseIpv4, subnetOf } from "./address.ts";
import shipped from "../lists/datacenter.txt";
import { makeBidRequest, makeRng } from "../../sim/requests.ts";

test("IPv4 parser: dotted quads only, no allocation tricks accepted", () => {
  expect(parseIpv4("1.2.3.4")).toBe(0x01020304);
  expect(parseIpv4("255.255.255.255")).toBe(0xffffffff);
  for (const bad of ["1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 ", ""]) expect(parseIpv4(bad)).toBe(-1);
});

test("IPv4 and IPv6 ranges: edges in, neighbours out, overlaps merged", () => {
  const set = CidrSet.fromCidrs(["10.0.0.0/8", "10.1.0.0/16", "192.168.1.0/24", "203.0.113.7", "2600:1f00::/24", "2a01:4f8::/29"]);
  expect(set.size).toEqual({ v4: 3, v6: 2 });
  for (const ip of ["10.0.0.0", "10.255.255.255", "192.168.1.0", "192.168.1.255", "203.0.113.7", "2600:1f00::1", "2600:1fff:ffff::1", "2a01:4f8:c0c:1::2"]) expect(set.has(ip)).toBe(true);
  for (const ip of ["9.255.255.255", "11.0.0.0", "192.168.0.255", "192.168.2.0", "203.0.113.8", "2600:2000::1", "2a01:500::1", "not-an-ip"]) expect(set.has(ip)).toBe(false);
});

test("a bad line is reported with its line number", () => {
  expect(() => CidrSet.parse("# comment\n10.0.0.0/8\n\n10.0.0.0/33\n")).toThrow(CidrError);
  try {
    CidrSet.parse("# comment\n10.0.0.0/8\n\nfoo/8\n");
  } catch (err) {
    expect((err as CidrError).line).toBe(4);
  }
});

test("the shipped data-center list parses, covers the big clouds, and spares the simulated humans", () => {
  const set = CidrSet.parse(shipped);
  expect(set.size.v4).toBeGreaterThan(100);
  for (const ip of ["3.5.140.2", "34.120.1.1", "20.50.2.1", "104.131.1.1", "2604:a880:400::1"]) expect(set.has(ip)).toBe(true);
  const rng = makeRng(7);
  for (let i = 0; i < 5000; i++) {
    const ip = (makeBidRequest(rng).device as { ip: string }).ip;
    expect(set.has(ip)).toBe(false);
  }
});

test("subnets for tier 3", () => {
  expect(subnetOf("81.2.3.4")).toBe("81.2.3.0/24");
  expect(subnetOf("2a02:1234:5678:9::1")).toBe("2a02:1234:5678::/48");
  expect(subnetOf("x")).toBeNull();
});
