// The helper thread of threadEncoder (encoder.ts): encodes batches of events to Parquet and sends
// the bytes back, transferred.
import { encodeEvents } from "./parquet.ts";
import type { EncodeReply, EncodeRequest } from "./encoder.ts";
import { lowerThisThread } from "../../server/thread-priority.ts";

lowerThisThread("parquet encoder");

declare const self: Worker;

self.onmessage = (event: MessageEvent<EncodeRequest>) => {
  const { id, events, options } = event.data;
  let reply: EncodeReply;
  try {
    reply = { id, bytes: encodeEvents(events, options) };
  } catch (err) {
    reply = { id, error: String((err as Error)?.message ?? err) };
  }
  if ("bytes" in reply) self.postMessage(reply, [reply.bytes.buffer as ArrayBuffer]);
  else self.postMessage(reply);
};
