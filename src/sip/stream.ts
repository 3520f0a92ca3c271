// SIP over a byte stream (TCP, TLS: RFC 3261 section 18.3): messages follow each other with no
// other framing than the empty line after the headers and the Content-Length, which a stream
// message must carry. Bytes arrive in chunks of any size; the decoder buffers at most one
// message (the limits' maxMessageBytes) and fails for good on anything it cannot frame, since a
// stream that lost its framing cannot be resynchronised: the caller closes the connection.
// Bare CRLFs between messages are keep-alives (RFC 5626 section 3.5.1) and are skipped.
import { err, ok, type Result } from '../result.js';
import { DEFAULT_SIP_LIMITS, contentLength, decodeSipMessage, findHeaderEnd, parseHead, type SipDecodeError, type SipLimits, type SipMessage } from './message.js';

const latin1 = new TextDecoder('latin1');

export class SipStreamDecoder {
  private buffer = new Uint8Array(0);
  private failed: SipDecodeError | null = null;
  /** Keep-alive CRLFs seen (a "\r\n\r\n" ping wants a "\r\n" pong; the caller answers). */
  keepAlives = 0;
  /** CRLF pairs skipped since the last message (a keep-alive may arrive split across chunks). */
  private crlfsSkipped = 0;

  constructor(private readonly limits: SipLimits = DEFAULT_SIP_LIMITS) {}

  /** Bytes buffered waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** Adds bytes; returns the messages they complete, or the error that ended the stream (messages earlier in the same chunk are dropped with it: the connection closes anyway). */
  push(chunk: Uint8Array): Result<SipMessage[], SipDecodeError> {
    if (this.failed) return err(this.failed);
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const messages: SipMessage[] = [];
    for (;;) {
      let start = 0;
      while (start + 1 < this.buffer.length && this.buffer[start] === 13 && this.buffer[start + 1] === 10) start += 2;
      if (start > 0) {
        this.crlfsSkipped += start / 2;
        if (this.crlfsSkipped >= 2) {
          this.keepAlives++;
          this.crlfsSkipped = 0;
        }
        this.buffer = this.buffer.slice(start);
      }
      if (this.buffer.length === 0) break;
      const headerEnd = findHeaderEnd(this.buffer);
      if (headerEnd < 0) {
        if (this.buffer.length > this.limits.maxMessageBytes) return this.fail({ code: 'too_large', message: `no end of headers within ${this.limits.maxMessageBytes} bytes` });
        break;
      }
      // Read the Content-Length from the head before waiting for a body of that size.
      const head = parseHead(latin1.decode(this.buffer.subarray(0, headerEnd)), this.limits);
      if (!head.ok) return this.fail(head.error);
      const length = contentLength(head.value.headers);
      if (!length.ok) return this.fail(length.error);
      if (length.value === null) return this.fail({ code: 'bad_content_length', message: 'a message on a stream without Content-Length' });
      const total = headerEnd + 4 + length.value;
      if (total > this.limits.maxMessageBytes) return this.fail({ code: 'too_large', message: `message of ${total} bytes, limit ${this.limits.maxMessageBytes}` });
      if (this.buffer.length < total) break;
      const message = decodeSipMessage(this.buffer.subarray(0, total), this.limits);
      if (!message.ok) return this.fail(message.error);
      messages.push(message.value);
      this.crlfsSkipped = 0;
      this.buffer = this.buffer.slice(total);
    }
    return ok(messages);
  }

  private fail(error: SipDecodeError): Result<SipMessage[], SipDecodeError> {
    this.failed = error;
    this.buffer = new Uint8Array(0);
    return err(error);
  }
}
