// OpenRTB 2.6 BidRequest, the parts tmax reads, as TypeBox schemas. Unknown fields are allowed
// everywhere (OpenRTB is extensible); the rules a schema cannot say live in validate.ts.
import { Type, type Static } from "@sinclair/typebox";

const Open = { additionalProperties: true } as const;
const Str = Type.String({ maxLength: 4096 });
const StrList = Type.Array(Str, { maxItems: 256 });
const PosInt = Type.Integer({ minimum: 1, maximum: 100_000 });

export const Format = Type.Object({ w: Type.Optional(PosInt), h: Type.Optional(PosInt) }, Open);
export const Banner = Type.Object({
  w: Type.Optional(PosInt),
  h: Type.Optional(PosInt),
  format: Type.Optional(Type.Array(Format, { maxItems: 64 })),
}, Open);
export const Video = Type.Object({ w: Type.Optional(PosInt), h: Type.Optional(PosInt), mimes: Type.Optional(StrList) }, Open);
export const Audio = Type.Object({ mimes: Type.Optional(StrList) }, Open);
export const Native = Type.Object({ request: Type.Optional(Type.Union([Str, Type.Object({}, Open)])) }, Open);

export const Imp = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  banner: Type.Optional(Banner),
  video: Type.Optional(Video),
  audio: Type.Optional(Audio),
  native: Type.Optional(Native),
  bidfloor: Type.Optional(Type.Number({ minimum: 0, maximum: 100_000 })),
  bidfloorcur: Type.Optional(Str),
  secure: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
}, Open);

const Publisher = Type.Object({ id: Type.Optional(Str), name: Type.Optional(Str), domain: Type.Optional(Str) }, Open);
export const Site = Type.Object({ id: Type.Optional(Str), domain: Type.Optional(Str), page: Type.Optional(Str), publisher: Type.Optional(Publisher), cat: Type.Optional(StrList) }, Open);
export const App = Type.Object({ id: Type.Optional(Str), bundle: Type.Optional(Str), publisher: Type.Optional(Publisher), cat: Type.Optional(StrList) }, Open);
export const Dooh = Type.Object({ id: Type.Optional(Str), publisher: Type.Optional(Publisher) }, Open);
const Geo = Type.Object({ country: Type.Optional(Str), lat: Type.Optional(Type.Number()), lon: Type.Optional(Type.Number()) }, Open);
export const Device = Type.Object({
  ua: Type.Optional(Str), ip: Type.Optional(Str), ipv6: Type.Optional(Str), ifa: Type.Optional(Str),
  devicetype: Type.Optional(Type.Integer({ minimum: 0 })), geo: Type.Optional(Geo),
}, Open);
export const User = Type.Object({ id: Type.Optional(Str), buyeruid: Type.Optional(Str) }, Open);

export const BidRequest = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128 }),
  imp: Type.Array(Imp, { minItems: 1 }),
  site: Type.Optional(Site),
  app: Type.Optional(App),
  dooh: Type.Optional(Dooh),
  device: Type.Optional(Device),
  user: Type.Optional(User),
  test: Type.Optional(Type.Integer({ minimum: 0, maximum: 1 })),
  at: Type.Optional(Type.Integer()),
  tmax: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000 })),
  cur: Type.Optional(StrList),
  bcat: Type.Optional(StrList),
  badv: Type.Optional(StrList),
  source: Type.Optional(Type.Object({ tid: Type.Optional(Str) }, Open)),
}, Open);

export type BidRequest = Static<typeof BidRequest>;
export type Imp = Static<typeof Imp>;
