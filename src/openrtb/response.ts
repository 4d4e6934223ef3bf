// What a DSP may answer (OpenRTB 2.6 BidResponse) and what tmax answers the exchange.
import { Type, type Static } from "@sinclair/typebox";

const Open = { additionalProperties: true } as const;
const Str = Type.String({ maxLength: 65_536 });

export const DspBid = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  impid: Type.String({ minLength: 1, maxLength: 64 }),
  price: Type.Number(),
  adid: Type.Optional(Str),
  adm: Type.Optional(Str),
  adomain: Type.Optional(Type.Array(Str, { maxItems: 64 })),
  cid: Type.Optional(Str),
  crid: Type.Optional(Str),
  cat: Type.Optional(Type.Array(Str, { maxItems: 64 })),
  nurl: Type.Optional(Str),
  burl: Type.Optional(Str),
  lurl: Type.Optional(Str),
  w: Type.Optional(Type.Integer()),
  h: Type.Optional(Type.Integer()),
}, Open);

export const DspBidResponse = Type.Object({
  id: Type.String(),
  seatbid: Type.Optional(Type.Array(Type.Object({
    seat: Type.Optional(Str),
    bid: Type.Array(DspBid, { maxItems: 512 }),
  }, Open), { maxItems: 64 })),
  bidid: Type.Optional(Str),
  cur: Type.Optional(Str),
  nbr: Type.Optional(Type.Integer()),
}, Open);

export type DspBid = Static<typeof DspBid>;
export type DspBidResponse = Static<typeof DspBidResponse>;

export interface ExchangeBid {
  id: string; impid: string; price: number; adm?: string; adomain?: string[]; cid?: string; crid?: string;
  cat?: string[]; nurl?: string; burl?: string; lurl?: string; w?: number; h?: number;
}
export interface ExchangeBidResponse {
  id: string;
  seatbid: Array<{ seat: string; bid: ExchangeBid[] }>;
  cur: "USD";
}
