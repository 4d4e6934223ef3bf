import { describe, expect, test } from "bun:test";
import { hashUserKey, NO_USER_KEY, userKeyHex, userKeyOf, userKeyText } from "./user-key.ts";

const UA = "Mozilla/5.0";

describe("the frequency-cap user key", () => {
  test("user.id first, then device.ifa, then ip (or ipv6) with ua", () => {
    expect(userKeyText({ user: { id: "u1" }, device: { ifa: "abc", ip: "1.2.3.4", ua: UA } })).toBe("u:u1");
    expect(userKeyText({ user: { id: "" }, device: { ifa: "abc", ip: "1.2.3.4", ua: UA } })).toBe("ifa:abc");
    expect(userKeyText({ device: { ip: "1.2.3.4", ua: UA } })).toBe(`ipua:1.2.3.4|${UA}`);
    expect(userKeyText({ device: { ipv6: "2001:db8::1", ua: UA } })).toBe(`ipua:2001:db8::1|${UA}`);
  });

  test("no usable key: nothing, an all-zero IFA (limit ad tracking), or ip without ua", () => {
    expect(userKeyOf({})).toBe(NO_USER_KEY);
    expect(userKeyText({ device: { ifa: "00000000-0000-0000-0000-000000000000" } })).toBeNull();
    expect(userKeyText({ device: { ip: "1.2.3.4" } })).toBeNull();
    expect(userKeyText({ device: { ua: UA } })).toBeNull();
  });

  test("the hash is stable, signed 64-bit, never the no-key value, and differs by source", () => {
    const a = userKeyOf({ user: { id: "same" } });
    expect(a).toBe(hashUserKey("u:same"));
    expect(a).toBe(BigInt.asIntN(64, a));
    expect(a).not.toBe(NO_USER_KEY);
    expect(userKeyOf({ device: { ifa: "same" } })).not.toBe(a);
    expect(userKeyHex(-1n)).toBe("ffffffffffffffff");
    expect(userKeyHex(1n)).toBe("0000000000000001");
  });
});
