/**
 * Splits a byte stream of back-to-back JSON objects (OVSDB's JSON-RPC 1.0
 * framing: no delimiter, no length prefix) into one string per object.
 *
 * A resumable state machine scans each byte once: depth, inside-string and
 * after-backslash survive across chunks. Two tight loops (inside strings,
 * between them) beat one loop testing the state per byte, and beat jumping
 * between quotes with `indexOf`: OVSDB strings are short, so the native
 * calls cost more than the bytes they skip. Chunks are kept in a list and
 * joined once per message, so a message of tens of MB arriving in 64 KiB
 * reads costs O(size), not O(size²). Scanning works on bytes: every byte of
 * a multi-byte UTF-8 sequence is ≥ 0x80 and can never look like `{`, `}`,
 * `"` or `\`, so a character split across reads needs no special care; the
 * message is UTF-8-validated and decoded only once it is complete.
 */
import { isUtf8 } from 'node:buffer';
import { OvsdbProtocolError } from './errors.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** Default cap on one message: far above any real dump, below V8's string limit. */
export const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Limits of a JsonSplitter. */
export interface JsonSplitterOptions {
  /** Largest message accepted before the stream is declared broken. */
  maxMessageBytes?: number;
}

/**
 * Cuts a byte stream into JSON texts (OVSDB sends objects back to back, with no delimiter), by
 * counting braces outside strings; resumable at any byte.
 */
export class JsonSplitter {
  private readonly onMessage: (text: string) => void;
  private readonly maxMessageBytes: number;
  /** Chunks holding the message in progress; the first starts at `start`. */
  private chunks: Buffer[] = [];
  private start = 0;
  private size = 0;
  /** Nesting depth of objects and arrays; 0 between messages. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  private broken: OvsdbProtocolError | undefined;

  constructor(onMessage: (text: string) => void, options: JsonSplitterOptions = {}) {
    this.onMessage = onMessage;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes held for a message not yet complete. */
  get buffered(): number {
    return this.size;
  }

  /** Forgets any partial message (after a reconnect). */
  reset(): void {
    this.chunks = [];
    this.start = 0;
    this.size = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.broken = undefined;
  }

  /**
   * Feeds one chunk; calls `onMessage` for each complete object. Throws
   * {@link OvsdbProtocolError} when the stream is not a sequence of JSON
   * objects; the stream is unusable after that (framing is lost).
   */
  push(chunk: Buffer): void {
    if (this.broken) throw this.broken;
    // The state lives in locals while scanning (V8 keeps them in registers)
    // and goes back to the fields at the end and around each callback.
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    // Where the current message starts in this chunk (0 when it began in an earlier one).
    let msgStart = depth > 0 ? 0 : -1;
    const n = chunk.length;
    let i = 0;
    outer: while (i < n) {
      if (inString) {
        // Most of OVSDB's bytes are inside strings: a tight loop that looks for `"` and `\` only.
        // (Bytes of multi-byte UTF-8 sequences are all >= 0x80 and pass through.)
        if (escaped) {
          escaped = false;
          i++;
        }
        for (;;) {
          if (i >= n) break outer;
          const b = chunk[i++];
          if (b === QUOTE) {
            inString = false;
            break;
          }
          if (b === BACKSLASH) {
            if (i >= n) {
              escaped = true;
              break outer;
            }
            i++;
          }
        }
      }
      if (depth === 0) {
        const b = chunk[i++];
        if (b === OPEN_BRACE) {
          depth = 1;
          msgStart = i - 1;
        } else if (b !== SPACE && b !== LF && b !== CR && b !== TAB) {
          throw this.fail(`expected a JSON object, got ${describeByte(b)} between messages`);
        }
        continue;
      }
      while (i < n) {
        const b = chunk[i++];
        if (b === QUOTE) {
          inString = true;
          continue outer;
        }
        if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
        else if ((b === CLOSE_BRACE || b === CLOSE_BRACKET) && --depth === 0) {
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.complete(chunk, msgStart, i);
          continue outer;
        }
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    if (depth > 0) {
      const from = msgStart >= 0 ? msgStart : 0;
      if (this.chunks.length === 0) this.start = from;
      this.chunks.push(chunk);
      this.size += n - from;
      if (this.size > this.maxMessageBytes) {
        throw this.fail(`message exceeds ${this.maxMessageBytes} bytes`);
      }
    }
  }

  private complete(chunk: Buffer, msgStart: number, end: number): void {
    let bytes: Buffer;
    if (this.chunks.length === 0) {
      bytes = chunk.subarray(msgStart, end);
    } else {
      const parts = this.chunks;
      parts[0] = parts[0].subarray(this.start);
      parts.push(chunk.subarray(0, end));
      bytes = Buffer.concat(parts, this.size + end);
      this.chunks = [];
      this.size = 0;
      this.start = 0;
    }
    if (bytes.length > this.maxMessageBytes) throw this.fail(`message exceeds ${this.maxMessageBytes} bytes`);
    if (!isUtf8(bytes)) throw this.fail('message is not valid UTF-8');
    this.onMessage(bytes.toString('utf8'));
  }

  private fail(message: string): OvsdbProtocolError {
    this.broken = new OvsdbProtocolError(`bad JSON-RPC stream: ${message}`);
    return this.broken;
  }
}

function describeByte(b: number): string {
  return b >= 0x20 && b < 0x7f ? JSON.stringify(String.fromCharCode(b)) : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
