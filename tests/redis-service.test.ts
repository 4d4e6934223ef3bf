// scripts/services/redis.ts against the real Debian redis-server: free ports, restart with and
// without persistence, a crash noticed, and stop() leaving no process and no temp dir behind.
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import Redis from "ioredis";
import { ping, RedisMissingError, startRedis } from "../scripts/services/redis.ts";
import { requireRedis, withRedis } from "./support/redis.ts";

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function roundTrip<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  try {
    return await fn(client);
  } finally {
    client.disconnect();
  }
}

describe("redis service", () => {
  test("the binary is installed (CI installs it; a missing one fails here, not skips)", () => {
    expect(requireRedis()).toContain("redis-server");
  });

  test("two instances on distinct free loopback ports both answer PING", async () => {
    await withRedis(async (a) => {
      await withRedis(async (b) => {
        expect(a.port).not.toBe(b.port);
        expect(a.url).toBe(`redis://127.0.0.1:${a.port}`);
        expect(await ping(a.port)).toBe(true);
        expect(await ping(b.port)).toBe(true);
        await roundTrip(a.url, (c) => c.set("k", "a"));
        expect(await roundTrip(b.url, (c) => c.get("k"))).toBeNull();
        const bind = await roundTrip(a.url, (c) => c.config("GET", "bind"));
        expect(bind).toEqual(["bind", "127.0.0.1"]);
      });
    });
  });

  test("restart keeps the port, gets a new pid and loses data without appendonly", async () => {
    await withRedis(async (redis) => {
      const firstPid = redis.pid;
      await roundTrip(redis.url, (c) => c.set("k", "v"));
      await redis.restart();
      expect(redis.pid).not.toBe(firstPid);
      expect(isAlive(firstPid)).toBe(false);
      expect(await roundTrip(redis.url, (c) => c.get("k"))).toBeNull();
    });
  });

  test("restart with appendonly keeps the data", async () => {
    await withRedis(async (redis) => {
      await roundTrip(redis.url, (c) => c.set("k", "kept"));
      await redis.restart();
      expect(await roundTrip(redis.url, (c) => c.get("k"))).toBe("kept");
    }, { appendonly: true });
  });

  test("kill -9 from outside is noticed: exited resolves with SIGKILL, running turns false", async () => {
    await withRedis(async (redis) => {
      expect(redis.running).toBe(true);
      process.kill(redis.pid, "SIGKILL");
      expect(await redis.exited).toBe("SIGKILL");
      expect(redis.running).toBe(false);
      expect(await ping(redis.port)).toBe(false);
      await redis.restart(); // comes back on the same port
      expect(await ping(redis.port)).toBe(true);
    });
  });

  test("stop leaves no process and no temp dir; a second stop is a no-op", async () => {
    const redis = await startRedis();
    const { pid, dir } = redis;
    expect(isAlive(pid)).toBe(true);
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await redis.stop();
  });

  test("stop ends a hung (SIGSTOP'd) server too", async () => {
    const redis = await startRedis();
    redis.kill("SIGSTOP");
    expect(await ping(redis.port, 200)).toBe(false);
    await redis.stop();
    expect(isAlive(redis.pid)).toBe(false);
  });

  test("a missing binary is a clear error with the install hint, and says so under CI=true", async () => {
    const ci = process.env.CI;
    try {
      process.env.CI = "true";
      const error = await startRedis({ binary: "/nonexistent/redis-server" }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RedisMissingError);
      expect((error as Error).message).toContain("apt-get install -y redis-server");
      expect((error as Error).message).toContain("CI=true");
    } finally {
      if (ci === undefined) delete process.env.CI;
      else process.env.CI = ci;
    }
  });
});
