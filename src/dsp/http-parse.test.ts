import { describe, expect, test } from "bun:test";
import { MAX_HEAD_BYTES, PARSE_DONE, PARSE_ERROR, PARSE_MORE, ResponseParser } from "./http-parse";

const MAX_BODY_BYTES = 1024;

/** Feeds `pieces` in order; returns the result of the last feed. */
function feedAll(parser: ResponseParser, pieces: string[]): number {
  let result: number = PARSE_MORE;
  for (const piece of pieces) result = parser.feed(Buffer.from(piece, "latin1"));
  return result;
}

function parse(raw: string): ResponseParser {
  const parser = new ResponseParser(MAX_BODY_BYTES);
  feedAll(parser, [raw]);
  return parser;
}

/** Every way of cutting `raw` in two, plus one byte at a time. */
function splits(raw: string): string[][] {
  const out: string[][] = [[...raw]];
  for (let cut = 1; cut < raw.length; cut++) out.push([raw.slice(0, cut), raw.slice(cut)]);
  return out;
}

const utf8AsLatin1 = (text: string) => Buffer.from(text).toString("latin1");

const CASES: { name: string; raw: string; status: number; body: string; keepAlive: boolean }[] = [
  {
    name: "content-length",
    raw: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"bid\":1.5}",
    status: 200,
    body: '{"bid":1.5}',
    keepAlive: true,
  },
  {
    name: "chunked with extension and trailer",
    raw: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
    status: 200,
    body: "hello 0123456789",
    keepAlive: true,
  },
  {
    name: "utf-8 body split inside a multi-byte character",
    raw: utf8AsLatin1("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nprix €€"),
    status: 200,
    body: "prix €€",
    keepAlive: true,
  },
  {
    name: "204 ignores content-length",
    raw: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
    status: 204,
    body: "",
    keepAlive: true,
  },
  {
    name: "connection close, mixed case",
    raw: "HTTP/1.1 200 OK\r\nCONTENT-length: 2\r\nConnection: Close\r\n\r\nok",
    status: 200,
    body: "ok",
    keepAlive: false,
  },
  {
    name: "100 continue then the response",
    raw: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
    status: 200,
    body: "x",
    keepAlive: true,
  },
  {
    name: "HTTP/1.0 without keep-alive",
    raw: "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
    status: 200,
    body: "",
    keepAlive: false,
  },
];

describe("ResponseParser", () => {
  for (const c of CASES) {
    test(`${c.name}: every split gives the same response`, () => {
      const parser = new ResponseParser(MAX_BODY_BYTES);
      for (const pieces of splits(c.raw)) {
        parser.reset();
        expect(feedAll(parser, pieces)).toBe(PARSE_DONE);
        expect([parser.status, parser.body, parser.keepAlive, parser.extraBytes]).toEqual([
          c.status,
          c.body,
          c.keepAlive,
          false,
        ]);
      }
    });
  }

  test("more is needed until the last byte", () => {
    const parser = new ResponseParser(MAX_BODY_BYTES);
    const raw = CASES[1]!.raw;
    expect(feedAll(parser, [raw.slice(0, -1)])).toBe(PARSE_MORE);
    expect(parser.started).toBe(true);
    expect(feedAll(parser, [raw.slice(-1)])).toBe(PARSE_DONE);
  });

  test("body delimited by close completes on EOF only", () => {
    const parser = new ResponseParser(MAX_BODY_BYTES);
    expect(feedAll(parser, ["HTTP/1.1 200 OK\r\n\r\npart", "ial"])).toBe(PARSE_MORE);
    expect(parser.finishOnEof()).toBe(true);
    expect([parser.body, parser.keepAlive]).toEqual(["partial", false]);
  });

  test("EOF in the middle of a sized body is not a response", () => {
    const parser = new ResponseParser(MAX_BODY_BYTES);
    feedAll(parser, ["HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
    expect(parser.finishOnEof()).toBe(false);
  });

  test("bytes after the response are flagged", () => {
    const parser = parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nxGARBAGE");
    expect([parser.body, parser.extraBytes]).toEqual(["x", true]);
  });

  const BAD: [string, string][] = [
    ["HTTP/2 200 OK\r\n\r\n", "bad_status_line"],
    ["HTTP/1.1 2x0 OK\r\n\r\n", "bad_status_line"],
    ["garbage\r\n\r\n", "bad_status_line"],
    ["HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "bad_header"],
    ["HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\n", "bad_header"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad_content_length"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "bad_content_length"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported_transfer_encoding"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad_chunk"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX", "bad_chunk"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n123456789\r\n", "bad_chunk"],
    ["HTTP/1.1 101 Switching Protocols\r\n\r\n", "unexpected_upgrade"],
    ["HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n", "response_too_large"],
    ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n", "response_too_large"],
    ["HTTP/1.1 200 OK\r\n\r\n" + "x".repeat(1025), "response_too_large"],
  ];
  for (const [raw, reason] of BAD) {
    test(`malformed -> ${reason}: ${JSON.stringify(raw.slice(0, 50))}`, () => {
      const parser = parse(raw);
      expect(parser.feed(Buffer.alloc(0))).toBe(PARSE_ERROR);
      expect(parser.error).toBe(reason);
    });
  }

  test("chunked bodies over the limit fail across chunks", () => {
    const parser = new ResponseParser(10);
    const result = feedAll(parser, ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "8\r\n12345678\r\n", "8\r\n"]);
    expect([result, parser.error]).toEqual([PARSE_ERROR, "response_too_large"]);
  });

  test("a head that never ends fails once over MAX_HEAD_BYTES, fed in one piece or many", () => {
    const head = "HTTP/1.1 200 OK\r\n" + "X-Pad: y\r\n".repeat(MAX_HEAD_BYTES / 10);
    expect(parse(head).error).toBe("head_too_large");
    const parser = new ResponseParser(MAX_BODY_BYTES);
    const pieces = head.match(/[^]{1,100}/g)!;
    expect(feedAll(parser, pieces)).toBe(PARSE_ERROR);
    expect(parser.error).toBe("head_too_large");
  });

  test("a head split into many small pieces is joined once and parsed", () => {
    const parser = new ResponseParser(MAX_BODY_BYTES);
    const raw = "HTTP/1.1 200 OK\r\n" + "X-Pad: y\r\n".repeat(200) + "Content-Length: 2\r\n\r\nok";
    expect(feedAll(parser, raw.match(/[^]{1,7}/g)!)).toBe(PARSE_DONE);
    expect(parser.body).toBe("ok");
  });
});
