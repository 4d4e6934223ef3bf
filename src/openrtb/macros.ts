// OpenRTB substitution macros in nurl/burl/lurl/adm. Macros the exchange alone knows
// (${AUCTION_LOSS}, ${AUCTION_MIN_TO_WIN}) are left for it to fill. Ids are URL-encoded (lone
// surrogates from a DSP made well-formed first, so encoding cannot throw).
export interface MacroValues {
  auctionId: string; bidId: string; impId: string; seatId: string; adId: string; price: string; currency: string;
}

const MACRO = /\$\{(AUCTION_[A-Z_]+)\}/g;

export function substituteMacros(text: string | undefined, values: MacroValues): string | undefined {
  if (text === undefined || text.indexOf("${AUCTION_") < 0) return text;
  return text.replace(MACRO, (whole, name: string) => {
    switch (name) {
      case "AUCTION_ID": return encodeURIComponent(values.auctionId.toWellFormed());
      case "AUCTION_BID_ID": return encodeURIComponent(values.bidId.toWellFormed());
      case "AUCTION_IMP_ID": return encodeURIComponent(values.impId.toWellFormed());
      case "AUCTION_SEAT_ID": return encodeURIComponent(values.seatId.toWellFormed());
      case "AUCTION_AD_ID": return encodeURIComponent(values.adId.toWellFormed());
      case "AUCTION_PRICE": return values.price;
      case "AUCTION_CURRENCY": return values.currency;
      default: return whole;
    }
  });
}
