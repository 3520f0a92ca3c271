// AEAD for datagrams, which can be lost, duplicated or reordered: each carries its counter in
// clear (8 bytes, big-endian) and is sealed with that counter as the nonce (Noise spec 11.4,
// "out-of-order transport messages"); the receiver checks a replay window before decrypting
// and marks the counter only once the datagram authenticated.
import { err, ok, type CodedError, type Result } from '../result.js';
import { TAG_BYTES, aeadDecrypt, aeadEncryptInto, type CipherName } from './noise/cipher-state.js';
import { ReplayWindow } from './replay-window.js';

export const COUNTER_BYTES = 8;
const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

export type DatagramErrorCode = 'truncated' | 'replayed' | 'too_old' | 'decrypt_failed';
export type DatagramError = CodedError<DatagramErrorCode>;

export class DatagramSealer {
  private counter = 0;
  constructor(
    private readonly cipher: CipherName,
    private readonly key: Uint8Array,
  ) {}

  seal(plaintext: Uint8Array, ad: Uint8Array = new Uint8Array(0)): Uint8Array {
    if (this.counter >= MAX_COUNTER) throw new Error('datagram counter exhausted: rekey');
    const counter = this.counter++;
    const out = new Uint8Array(COUNTER_BYTES + plaintext.byteLength + TAG_BYTES);
    const view = new DataView(out.buffer);
    view.setUint32(0, Math.floor(counter / 2 ** 32));
    view.setUint32(4, counter >>> 0);
    // Sealed in place behind the counter: no second copy of the frame.
    aeadEncryptInto(out.subarray(COUNTER_BYTES), this.cipher, this.key, counter, ad, plaintext);
    return out;
  }
}

export class DatagramOpener {
  private readonly window: ReplayWindow;
  constructor(
    private readonly cipher: CipherName,
    private readonly key: Uint8Array,
    windowSize?: number,
  ) {
    this.window = new ReplayWindow(windowSize);
  }

  open(datagram: Uint8Array, ad: Uint8Array = new Uint8Array(0)): Result<Uint8Array, DatagramError> {
    if (datagram.byteLength < COUNTER_BYTES + TAG_BYTES) return err({ code: 'truncated', message: 'datagram shorter than counter and tag' });
    const view = new DataView(datagram.buffer, datagram.byteOffset, COUNTER_BYTES);
    const high = view.getUint32(0);
    if (high >= 2 ** 21) return err({ code: 'decrypt_failed', message: 'counter out of range' });
    const counter = high * 2 ** 32 + view.getUint32(4);
    const verdict = this.window.check(counter);
    if (verdict !== 'fresh') return err({ code: verdict, message: `datagram ${counter} is ${verdict === 'replayed' ? 'a replay' : 'older than the replay window'}` });
    const plaintext = aeadDecrypt(this.cipher, this.key, counter, ad, datagram.subarray(COUNTER_BYTES));
    if (!plaintext) return err({ code: 'decrypt_failed', message: 'datagram failed authentication' });
    this.window.accept(counter);
    return ok(plaintext);
  }
}
