// The README's first command: the demo starts, prints what to try, answers the printed curl
// example, and its own traffic produces auctions.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { BUN, ROOT } from "./support/processes.ts";

test("tmax demo serves auctions and prints the URLs to try", async () => {
  const proc = Bun.spawn([BUN, join(ROOT, "src/cli.ts"), "demo", "--port", "0", "--rps", "20", "--seconds", "4"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  let out = "";
  const decoder = new TextDecoder();
  let curlAnswer: Promise<Response> | null = null;
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk, { stream: true });
    const url = /auction\s+POST (http:\/\/\S+)\/openrtb2\/auction/.exec(out)?.[1];
    if (url && curlAnswer === null) {
      curlAnswer = fetch(`${url}/openrtb2/auction`, { method: "POST", headers: { "content-type": "application/json" }, body: await Bun.file(join(ROOT, "tests/fixtures/bid-request.json")).text() });
    }
  }
  expect(await proc.exited).toBe(0);
  expect(out).toContain("curl -si");
  expect(out).toMatch(/metrics\s+http:\/\/\S+\/metrics/);
  expect(out).toMatch(/health\s+http:\/\/\S+\/healthz/);
  expect(out).toMatch(/dashboard\s+http:\/\/\S+\/dashboard/);
  expect(out).toMatch(/SLOs\s+http:\/\/\S+\/slo/);
  const answer = await curlAnswer!;
  // The README's example is a plausible human request: the fraud stage lets it through and it wins a bid.
  expect(answer.status).toBe(200);
  const bids = Number(/\[demo\] requests bid=(\d+)/.exec(out)?.[1] ?? "0");
  expect(bids).toBeGreaterThan(10);
}, 30_000);

test("Ctrl-C (SIGINT) stops the demo: server, simulators and traffic, exit 0", async () => {
  const proc = Bun.spawn([BUN, join(ROOT, "src/cli.ts"), "demo", "--port", "0"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const decoder = new TextDecoder();
  let out = "";
  const reader = proc.stdout.getReader();
  while (!/auction\s+POST http/.test(out)) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
  }
  const url = /auction\s+POST (http:\/\/\S+)\/openrtb2\/auction/.exec(out)![1]!;
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
  proc.kill("SIGINT");
  expect(await proc.exited).toBe(0);
  expect(await fetch(`${url}/healthz`).then(() => "up", () => "down")).toBe("down");
}, 30_000);
