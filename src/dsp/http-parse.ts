// Incremental HTTP/1.1 response parser for the DSP client pool (http-pool.ts).
// Bytes may arrive split at any boundary; one parser instance is reused per socket.
// Only a head split across chunks is copied; a body that arrives in one chunk is decoded in place.

/** Largest accepted status line + headers (and, separately, chunked trailers), in bytes. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** Largest accepted chunk-size line extension (";name=value..."), in bytes. */
export const MAX_CHUNK_EXT_BYTES = 256;
/** Hex digits in a chunk size; 8 digits (4 GiB) is already far past any body limit. */
export const MAX_CHUNK_SIZE_DIGITS = 8;

export const PARSE_MORE = 0;
export const PARSE_DONE = 1;
export const PARSE_ERROR = 2;
export type ParseResult = typeof PARSE_MORE | typeof PARSE_DONE | typeof PARSE_ERROR;

const S_HEAD = 0;
const S_FIXED_BODY = 1;
const S_UNTIL_CLOSE = 2;
const S_CHUNK_SIZE = 3;
const S_CHUNK_EXT = 4;
const S_CHUNK_SIZE_LF = 5;
const S_CHUNK_DATA = 6;
const S_CHUNK_DATA_CR = 7;
const S_CHUNK_DATA_LF = 8;
const S_TRAILER_START = 9;
const S_TRAILER_LINE = 10;
const S_TRAILER_END_LF = 11;
const S_DONE = 12;
const S_ERROR = 13;

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from("\r\n\r\n");
const HEAD_END_U32 = 0x0d0a0d0a;

export class ResponseParser {
  /** HTTP status of the completed response. */
  status = 0;
  /** UTF-8 decoded body of the completed response. */
  body = "";
  /** False when the connection must not be reused (Connection: close, HTTP/1.0, body until close...). */
  keepAlive = true;
  /** Short reason after PARSE_ERROR. */
  error = "";
  /** True once any byte of the current response has been fed. */
  started = false;
  /** True when bytes followed the end of the response (nothing was asked for: do not reuse). */
  extraBytes = false;

  private state = S_HEAD;
  private headParts: Buffer[] = []; // unfinished head split over chunks, from its first byte
  private headPartsBytes = 0;
  private headLast4 = 0; // last 4 bytes of headParts, big-endian, to spot CRLFCRLF across chunks
  private parts: Buffer[] = [];
  private bodyBytes = 0;
  private remainingBytes = 0; // of the fixed body or of the current chunk
  private chunkDigits = 0;
  private lineBytes = 0; // chunk extension or trailer bytes so far
  private contentLength = -1;
  private chunked = false;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private http10 = false;

  constructor(private readonly maxBodyBytes: number) {}

  reset(): void {
    this.status = 0;
    this.body = "";
    this.keepAlive = true;
    this.error = "";
    this.started = false;
    this.extraBytes = false;
    if (this.headPartsBytes > 0) this.headParts = [];
    this.headPartsBytes = 0;
    this.resetMessage();
  }

  /** Feeds one chunk. `chunk` must not be mutated afterwards (slices of it may be kept until done). */
  feed(chunk: Buffer): ParseResult {
    if (chunk.length > 0) this.started = true;
    let buf: Buffer | null = chunk;
    if (this.headPartsBytes > 0) buf = this.joinHead(chunk);
    if (buf === null) return this.state === S_ERROR ? PARSE_ERROR : PARSE_MORE;
    let pos = 0;
    while (pos < buf.length) pos = this.step(buf, pos);
    if (this.state === S_DONE) return PARSE_DONE;
    return this.state === S_ERROR ? PARSE_ERROR : PARSE_MORE;
  }

  /** The peer closed the socket: completes a body delimited by close. Returns true if the response is complete. */
  finishOnEof(): boolean {
    if (this.state === S_UNTIL_CLOSE) this.finishBody();
    return this.state === S_DONE;
  }

  private step(buf: Buffer, pos: number): number {
    switch (this.state) {
      case S_HEAD:
        return this.readHead(buf, pos);
      case S_FIXED_BODY:
        return this.readFixedBody(buf, pos);
      case S_UNTIL_CLOSE:
        return this.readUntilClose(buf, pos);
      case S_CHUNK_DATA:
        return this.readChunkData(buf, pos);
      case S_DONE:
        this.extraBytes = true;
        return buf.length;
      case S_ERROR:
        return buf.length;
      default:
        return this.readChunkFraming(buf, pos);
    }
  }

  private fail(reason: string): number {
    this.state = S_ERROR;
    this.error = reason;
    this.keepAlive = false;
    if (this.parts.length > 0) this.parts = [];
    return Number.MAX_SAFE_INTEGER; // ends the feed loop
  }

  private resetMessage(): void {
    this.state = S_HEAD;
    if (this.parts.length > 0) this.parts = [];
    this.bodyBytes = 0;
    this.remainingBytes = 0;
    this.chunkDigits = 0;
    this.lineBytes = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.http10 = false;
  }

  private readHead(buf: Buffer, pos: number): number {
    const endIdx = buf.indexOf(HEAD_END, pos);
    if (endIdx < 0) {
      if (buf.length - pos > MAX_HEAD_BYTES) return this.fail("head_too_large");
      this.holdHead(buf.subarray(pos));
      return buf.length;
    }
    if (endIdx - pos > MAX_HEAD_BYTES) return this.fail("head_too_large");
    const reason = this.parseHead(buf, pos, endIdx);
    if (reason !== "") return this.fail(reason);
    this.afterHead();
    return endIdx + 4;
  }

  private holdHead(part: Buffer): void {
    this.headParts.push(part);
    this.headPartsBytes += part.length;
    let last4 = this.headParts.length === 1 ? 0 : this.headLast4;
    for (let i = Math.max(0, part.length - 4); i < part.length; i++) last4 = ((last4 << 8) | part[i]!) >>> 0;
    this.headLast4 = last4;
  }

  /** Adds a chunk to an unfinished head; once CRLFCRLF has arrived returns all of it joined, else null. */
  private joinHead(chunk: Buffer): Buffer | null {
    let last4 = this.headLast4;
    let complete = false;
    for (let i = 0; i < 3 && i < chunk.length; i++) {
      last4 = ((last4 << 8) | chunk[i]!) >>> 0;
      if (last4 === HEAD_END_U32) complete = true; // terminator straddles the previous chunk
    }
    complete ||= chunk.indexOf(HEAD_END) >= 0;
    this.holdHead(chunk);
    if (!complete) {
      if (this.headPartsBytes > MAX_HEAD_BYTES) this.fail("head_too_large");
      return null;
    }
    const joined = Buffer.concat(this.headParts, this.headPartsBytes);
    this.headParts = [];
    this.headPartsBytes = 0;
    return joined;
  }

  /** Parses status line and headers in buf[start, endIdx); returns "" or an error reason. */
  private parseHead(buf: Buffer, start: number, endIdx: number): string {
    const statusEnd = buf.indexOf(LF, start) - 1; // the head ends in CRLFCRLF, so an LF exists
    if (!this.parseStatusLine(buf, start, statusEnd)) return "bad_status_line";
    let lineStart = statusEnd + 2;
    while (lineStart < endIdx) {
      const lineEnd = buf.indexOf(LF, lineStart) - 1;
      if (buf[lineEnd] !== CR) return "bad_header";
      const reason = this.parseHeaderLine(buf, lineStart, lineEnd);
      if (reason !== "") return reason;
      lineStart = lineEnd + 2;
    }
    return "";
  }

  /** "HTTP/1.x NNN[ reason]" ending at buf[end] === CR. */
  private parseStatusLine(buf: Buffer, start: number, end: number): boolean {
    if (buf[end] !== CR || end - start < 12) return false;
    if (!bytesMatch(buf, start, "HTTP/1.", 0)) return false;
    const minor = buf[start + 7];
    if ((minor !== 48 && minor !== 49) || buf[start + 8] !== 32) return false;
    let status = 0;
    for (let i = start + 9; i < start + 12; i++) {
      const digit = buf[i]! - 48;
      if (digit < 0 || digit > 9) return false;
      status = status * 10 + digit;
    }
    if (end > start + 12 && buf[start + 12] !== 32) return false;
    this.status = status;
    this.http10 = minor === 48;
    return status >= 100;
  }

  private parseHeaderLine(buf: Buffer, start: number, end: number): string {
    const colon = buf.indexOf(58, start);
    if (colon <= start || colon >= end) return "bad_header";
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && isOws(buf[valueStart]!)) valueStart++;
    while (valueEnd > valueStart && isOws(buf[valueEnd - 1]!)) valueEnd--;
    const nameBytes = colon - start;
    if (nameBytes === 14 && bytesMatch(buf, start, "content-length", 0x20)) {
      return this.setContentLength(buf, valueStart, valueEnd);
    }
    if (nameBytes === 17 && bytesMatch(buf, start, "transfer-encoding", 0x20)) {
      const codings = buf.toString("latin1", valueStart, valueEnd).toLowerCase().split(",");
      if (codings[codings.length - 1]!.trim() !== "chunked") return "unsupported_transfer_encoding";
      this.chunked = true;
    } else if (nameBytes === 10 && bytesMatch(buf, start, "connection", 0x20)) {
      for (const token of buf.toString("latin1", valueStart, valueEnd).toLowerCase().split(",")) {
        const option = token.trim();
        if (option === "close") this.connectionClose = true;
        else if (option === "keep-alive") this.connectionKeepAlive = true;
      }
    }
    return "";
  }

  private setContentLength(buf: Buffer, start: number, end: number): string {
    if (end === start || end - start > 15) return "bad_content_length";
    let length = 0;
    for (let i = start; i < end; i++) {
      const digit = buf[i]! - 48;
      if (digit < 0 || digit > 9) return "bad_content_length";
      length = length * 10 + digit;
    }
    if (this.contentLength >= 0 && this.contentLength !== length) return "bad_content_length";
    this.contentLength = length;
    return "";
  }

  private afterHead(): void {
    const status = this.status;
    if (status < 200) {
      if (status === 101) this.fail("unexpected_upgrade");
      else this.resetMessage(); // interim 1xx: the real response follows
      return;
    }
    this.keepAlive = this.http10 ? this.connectionKeepAlive && !this.connectionClose : !this.connectionClose;
    if (status === 204 || status === 304) return this.finishBody();
    if (this.chunked) {
      if (this.contentLength >= 0) this.keepAlive = false; // ambiguous framing: never reuse
      this.state = S_CHUNK_SIZE;
    } else if (this.contentLength > this.maxBodyBytes) {
      this.fail("response_too_large");
    } else if (this.contentLength >= 0) {
      this.remainingBytes = this.contentLength;
      this.state = S_FIXED_BODY;
      if (this.contentLength === 0) this.finishBody();
    } else {
      this.keepAlive = false;
      this.state = S_UNTIL_CLOSE;
    }
  }

  private readFixedBody(buf: Buffer, pos: number): number {
    const takeBytes = Math.min(buf.length - pos, this.remainingBytes);
    const end = pos + takeBytes;
    this.remainingBytes -= takeBytes;
    if (this.remainingBytes === 0 && this.parts.length === 0) {
      this.body = buf.toString("utf8", pos, end); // whole body in one chunk: no copy
      this.state = S_DONE;
      return end;
    }
    this.addBodyPart(buf, pos, end);
    if (this.remainingBytes === 0) this.finishBody();
    return end;
  }

  private readUntilClose(buf: Buffer, pos: number): number {
    if (this.bodyBytes + buf.length - pos > this.maxBodyBytes) return this.fail("response_too_large");
    this.addBodyPart(buf, pos, buf.length);
    return buf.length;
  }

  private readChunkData(buf: Buffer, pos: number): number {
    const end = pos + Math.min(buf.length - pos, this.remainingBytes);
    this.addBodyPart(buf, pos, end);
    this.remainingBytes -= end - pos;
    if (this.remainingBytes === 0) this.state = S_CHUNK_DATA_CR;
    return end;
  }

  /** One byte of chunk-size line, chunk CRLF or trailer. */
  private readChunkFraming(buf: Buffer, pos: number): number {
    const byte = buf[pos]!;
    switch (this.state) {
      case S_CHUNK_SIZE:
        return this.readChunkSizeByte(byte) ? pos + 1 : this.fail("bad_chunk");
      case S_CHUNK_EXT:
        if (byte === CR) this.state = S_CHUNK_SIZE_LF;
        else if (++this.lineBytes > MAX_CHUNK_EXT_BYTES) return this.fail("bad_chunk");
        return pos + 1;
      case S_CHUNK_SIZE_LF:
        return byte === LF ? this.startChunk(pos + 1) : this.fail("bad_chunk");
      case S_CHUNK_DATA_CR:
        return this.expect(byte, CR, S_CHUNK_DATA_LF, pos);
      case S_CHUNK_DATA_LF:
        return this.expect(byte, LF, S_CHUNK_SIZE, pos);
      case S_TRAILER_START:
        this.state = byte === CR ? S_TRAILER_END_LF : S_TRAILER_LINE;
        return pos + 1;
      case S_TRAILER_LINE:
        if (byte === LF) this.state = S_TRAILER_START;
        if (++this.lineBytes > MAX_HEAD_BYTES) return this.fail("head_too_large");
        return pos + 1;
      default: // S_TRAILER_END_LF
        if (byte !== LF) return this.fail("bad_chunk");
        this.finishBody();
        return pos + 1;
    }
  }

  private readChunkSizeByte(byte: number): boolean {
    const digit = hexValue(byte);
    if (digit >= 0) {
      if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS) return false;
      this.remainingBytes = this.remainingBytes * 16 + digit;
      return true;
    }
    if (this.chunkDigits === 0) return false;
    if (byte === CR) this.state = S_CHUNK_SIZE_LF;
    else if (byte === 59 || byte === 32 || byte === 9) this.state = S_CHUNK_EXT; // ';' or OWS before it
    else return false;
    return true;
  }

  private startChunk(pos: number): number {
    const chunkBytes = this.remainingBytes;
    this.chunkDigits = 0;
    this.lineBytes = 0;
    if (chunkBytes === 0) {
      this.state = S_TRAILER_START;
      return pos;
    }
    if (this.bodyBytes + chunkBytes > this.maxBodyBytes) return this.fail("response_too_large");
    this.state = S_CHUNK_DATA;
    return pos;
  }

  private expect(byte: number, wanted: number, next: number, pos: number): number {
    if (byte !== wanted) return this.fail("bad_chunk");
    this.state = next;
    if (next === S_CHUNK_SIZE) this.remainingBytes = 0;
    return pos + 1;
  }

  private addBodyPart(buf: Buffer, start: number, end: number): void {
    if (end === start) return;
    this.parts.push(buf.subarray(start, end));
    this.bodyBytes += end - start;
  }

  private finishBody(): void {
    const parts = this.parts;
    if (parts.length === 1) this.body = parts[0]!.toString("utf8");
    else if (parts.length > 1) this.body = Buffer.concat(parts, this.bodyBytes).toString("utf8");
    else this.body = "";
    if (this.parts.length > 0) this.parts = [];
    this.state = S_DONE;
  }
}

function isOws(byte: number): boolean {
  return byte === 32 || byte === 9;
}

/** buf at start equals ascii; foldMask 0x20 makes it case-insensitive (for lowercase letters and '-' only). */
function bytesMatch(buf: Buffer, start: number, ascii: string, foldMask: number): boolean {
  for (let i = 0; i < ascii.length; i++) {
    if ((buf[start + i]! | foldMask) !== ascii.charCodeAt(i)) return false;
  }
  return true;
}

function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}
