// Turns one outbox record (a UTF-8 JSON audit event) into a Kafka message: key = advertiser_id (no
// key when it is "": such events go round-robin, partitioner.ts), header event_id, value = the
// record's bytes unchanged. Cheap on the common path: a native
// indexOf finds `"advertiser_id":"`, a short scan of the bytes before it checks that it is a
// top-level key, and the key is a view of the record's bytes. Anything unusual (whitespace, escapes
// in the value, a nested key first) falls back to JSON.parse. A record without a string
// advertiser_id and event_id is malformed: sent without a key and marked with a header, never dropped.
import type { Message } from "kafkajs";
import { HEADER_EVENT_ID, HEADER_MALFORMED } from "./limits.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const ADVERTISER_KEY = Buffer.from('"advertiser_id":"');
const EVENT_ID_KEY = Buffer.from('"event_id":"');
const EMPTY = Buffer.alloc(0);
const NOT_FOUND = null;

export interface Routed {
  message: Message;
  malformed: boolean;
}

/** The Kafka message for one outbox record. */
export function routeRecord(data: Uint8Array): Routed {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const fast = bytes[0] === OPEN_BRACE ? fastFields(bytes) : NOT_FOUND;
  const fields = fast ?? parsedFields(bytes);
  const headers: Record<string, Buffer | string> = {};
  if (fields.eventId !== null) headers[HEADER_EVENT_ID] = fields.eventId;
  if (fields.malformed) headers[HEADER_MALFORMED] = "1";
  const key = fields.advertiserId.length === 0 ? null : fields.advertiserId;
  return { message: { key, value: bytes, headers }, malformed: fields.malformed };
}

interface Fields {
  advertiserId: Buffer;
  eventId: Buffer | null;
  malformed: boolean;
}

function fastFields(bytes: Buffer): Fields | null {
  const advertiserId = topLevelString(bytes, ADVERTISER_KEY);
  if (advertiserId === null) return NOT_FOUND;
  const eventId = topLevelString(bytes, EVENT_ID_KEY);
  if (eventId === null) return NOT_FOUND;
  return { advertiserId, eventId, malformed: false };
}

/** The bytes of the string value of a top-level key written compactly (`"key":"value"`), or null. */
function topLevelString(bytes: Buffer, pattern: Buffer): Buffer | null {
  for (let at = bytes.indexOf(pattern); at >= 0; at = bytes.indexOf(pattern, at + 1)) {
    if (!atTopLevelKey(bytes, at)) continue;
    const start = at + pattern.length;
    for (let i = start; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === BACKSLASH) return NOT_FOUND; // escapes: let JSON.parse decode the value
      if (b === QUOTE) return bytes.subarray(start, i);
    }
    return NOT_FOUND;
  }
  return NOT_FOUND;
}

/** True when byte `at` is outside any string, directly inside the outermost object. */
function atTopLevelKey(bytes: Buffer, at: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < at; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
    else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return !inString && depth === 1;
}

function parsedFields(bytes: Buffer): Fields {
  let event: unknown;
  try {
    event = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { advertiserId: EMPTY, eventId: null, malformed: true };
  }
  const fields = typeof event === "object" && event !== null && !Array.isArray(event) ? (event as Record<string, unknown>) : {};
  const advertiser = fields.advertiser_id;
  const eventId = typeof fields.event_id === "string" ? Buffer.from(fields.event_id) : null;
  const malformed = typeof advertiser !== "string" || eventId === null;
  return { advertiserId: typeof advertiser === "string" && !malformed ? Buffer.from(advertiser) : EMPTY, eventId, malformed };
}
