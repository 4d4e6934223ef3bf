// The relay's routing of outbox records (no broker): key = the top-level advertiser_id, header
// event_id, value unchanged; the fast byte scan agrees with JSON.parse on awkward but valid events;
// anything without a string advertiser_id and event_id is malformed (no key, marked). An empty
// advertiser_id means "no advertiser": no key (round-robin), not malformed.
import { describe, expect, test } from "bun:test";
import { HEADER_EVENT_ID, HEADER_MALFORMED, routeRecord } from "../src/audit/relay/index.ts";
import { testEvent } from "../src/audit/relay/testing.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
function route(text: string) {
  const { message, malformed } = routeRecord(bytes(text));
  const headers = message.headers as Record<string, Buffer | string>;
  return {
    key: message.key === null ? null : String(message.key),
    eventId: headers[HEADER_EVENT_ID] === undefined ? null : String(headers[HEADER_EVENT_ID]),
    marked: headers[HEADER_MALFORMED] === "1",
    malformed,
    value: Buffer.from(message.value as Buffer).toString(),
  };
}

describe("routeRecord", () => {
  test("a schema event: key advertiser_id, header event_id, the bytes as they are", () => {
    const text = testEvent({ run: "r", advertiser: "adv-7", seq: 3 });
    expect(route(text)).toEqual({ key: "adv-7", eventId: "r~adv-7~3", marked: false, malformed: false, value: text });
  });

  test("the fast path agrees with JSON.parse on nested keys, look-alike strings, escapes and unicode", () => {
    const tricky: Record<string, unknown>[] = [
      { a: { advertiser_id: "nested" }, event_id: "e1", advertiser_id: "top" },
      { detail: '"advertiser_id":"fake"', event_id: "e2", advertiser_id: "real" },
      { 'x\\"advertiser_id': "k", event_id: "e3", advertiser_id: "real3" },
      { list: [{ event_id: "inner" }, "]}"], event_id: "e4", advertiser_id: "a4" },
      { event_id: "e5", advertiser_id: "ümlaut-广告" },
      { event_id: "e6", advertiser_id: "tab\there" },
      { event_id: "e7", advertiser_id: "" },
      { s: "\\", event_id: "e8", advertiser_id: "after-backslash" },
    ];
    for (const event of tricky) {
      const routed = route(JSON.stringify(event));
      expect({ key: routed.key, eventId: routed.eventId, malformed: routed.malformed }).toEqual({
        key: event.advertiser_id === "" ? null : (event.advertiser_id as string), eventId: event.event_id as string, malformed: false,
      });
    }
  });

  test("malformed: not JSON, not an object, no advertiser_id or event_id, wrong types, truncated", () => {
    const cases: [string, string | null][] = [
      ["", null],
      ["garbage", null],
      ["[1,2]", null],
      ["null", null],
      ['{"event_id":"only-id"}', "only-id"],
      ['{"advertiser_id":"only-adv"}', null],
      ['{"event_id":"e","advertiser_id":42}', "e"],
      ['{"event_id":7,"advertiser_id":"a"}', null],
      ['{"event_id":"cut","advertiser_id":"a', null],
    ];
    for (const [text, eventId] of cases) {
      expect(route(text)).toEqual({ key: null, eventId, marked: true, malformed: true, value: text });
    }
  });
});
