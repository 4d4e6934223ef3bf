// Test fixture (src/budget/pacing-shared.test.ts): a Bun Worker that reads the shared pacing buffer
// as a request thread would. For each message it reports every slot's p and how many of `draws`
// seeded random draws shouldBid allowed.
import { PacingReader } from "../pacing-shared.ts";
import { makeRng } from "../../util/rng.ts";

declare const self: Worker;

let reader: PacingReader | null = null;

self.onmessage = (event: MessageEvent<{ buffer?: SharedArrayBuffer; slots: number; draws: number; seed: number }>) => {
  const { buffer, slots, draws, seed } = event.data;
  if (buffer !== undefined) reader = new PacingReader(buffer);
  const rng = makeRng(seed);
  const out: Array<{ p: number; bids: number }> = [];
  for (let slot = 0; slot < slots; slot++) {
    let bids = 0;
    for (let i = 0; i < draws; i++) if (reader!.shouldBid(slot, rng())) bids++;
    out.push({ p: reader!.probability(slot), bids });
  }
  postMessage(out);
};
