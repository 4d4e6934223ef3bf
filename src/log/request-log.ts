// The request path's log line, for a sample of requests (`log.sampleRate`): what the exchange asked
// (its OpenRTB request id, the x-request-id header) and what tmax answered, in how long. The body is
// parsed again for the id only when the request is sampled, so unsampled requests pay nothing.
import type { Logger } from "./logger.ts";
import type { Answer } from "../pipeline/context.ts";

/** The OpenRTB `id` of a request body, when it is a JSON object with a string id. */
export function requestIdOf(bodyText: string | undefined): string | undefined {
  if (bodyText === undefined) return undefined;
  try {
    const id = (JSON.parse(bodyText) as { id?: unknown } | null)?.id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

export function logAuction(log: Logger, request: Request, bodyText: string | undefined, answer: Answer, ms: number): void {
  log.info("auction", {
    requestId: requestIdOf(bodyText),
    xRequestId: request.headers.get("x-request-id") ?? undefined,
    exchange: request.headers.get("x-exchange-id") ?? undefined,
    status: answer.status,
    noBidReason: answer.headers?.["x-tmax-no-bid-reason"],
    ms: Math.round(ms * 100) / 100,
  });
}
