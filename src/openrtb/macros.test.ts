import { expect, test } from "bun:test";
import { substituteMacros } from "./macros.ts";

const values = { auctionId: "req 1", bidId: "b\ud800", impId: "1", seatId: "dsp1", adId: "ad", price: "2.01", currency: "USD" };

test("known macros are substituted and URL-encoded; the exchange's own are left", () => {
  expect(substituteMacros("http://x/w?p=${AUCTION_PRICE}&a=${AUCTION_ID}&i=${AUCTION_IMP_ID}&s=${AUCTION_SEAT_ID}&c=${AUCTION_CURRENCY}&l=${AUCTION_LOSS}", values))
    .toBe("http://x/w?p=2.01&a=req%201&i=1&s=dsp1&c=USD&l=${AUCTION_LOSS}");
});

test("a lone surrogate in a DSP's bid id does not throw", () => {
  expect(substituteMacros("${AUCTION_BID_ID}", values)).toBe("b%EF%BF%BD");
});

test("text without macros is returned as is", () => {
  expect(substituteMacros(undefined, values)).toBeUndefined();
  expect(substituteMacros("<div/>", values)).toBe("<div/>");
});
