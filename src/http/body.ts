// Reading an auction request body within its limits: method, content type, encoding and size are
// checked before any JSON is parsed. gzip is inflated with an output cap, so a small compressed
// bomb cannot blow past the body limit.
import { gunzipSync } from "node:zlib";

export type BodyResult = { text: string } | { status: 405 | 413 | 415 | 400; field: string; reason: string };

export async function readAuctionBody(request: Request, maxBodyBytes: number): Promise<BodyResult> {
  if (request.method !== "POST") return { status: 405, field: "(method)", reason: `method ${request.method} not allowed; use POST` };
  const type = request.headers.get("content-type");
  if (type === null || !isJson(type)) return { status: 415, field: "(content-type)", reason: `content type must be application/json, got ${type ?? "none"}` };
  const length = Number(request.headers.get("content-length") ?? "0");
  if (length > maxBodyBytes) return tooLarge(maxBodyBytes);
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding !== "identity" && encoding !== "gzip") {
    return { status: 415, field: "(content-encoding)", reason: `content encoding ${encoding} not supported; use gzip or none` };
  }
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(await request.arrayBuffer());
  } catch (err) {
    // Bun refuses a body past the server's maxRequestBodySize while reading it (a chunked body has
    // no content-length to check above); a client that goes away mid-body fails here too.
    if (/maxRequestBodySize/i.test(String((err as Error).message ?? err))) return tooLarge(maxBodyBytes);
    return { status: 400, field: "(body)", reason: "body could not be read" };
  }
  if (raw.byteLength > maxBodyBytes) return tooLarge(maxBodyBytes);
  if (encoding === "identity") return { text: decoder.decode(raw) };
  try {
    return { text: decoder.decode(gunzipSync(raw, { maxOutputLength: maxBodyBytes })) };
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE" || err instanceof RangeError) return tooLarge(maxBodyBytes);
    return { status: 400, field: "(body)", reason: "gzip body could not be inflated" };
  }
}

const decoder = new TextDecoder();

function isJson(type: string): boolean {
  const media = type.split(";", 1)[0]!.trim().toLowerCase();
  return media === "application/json";
}

function tooLarge(maxBodyBytes: number): BodyResult {
  return { status: 413, field: "(body)", reason: `body larger than ${maxBodyBytes} bytes` };
}
