// The UDP ports of one host that belong to its TURN relay, shared by the threads that run it
// (relay-workers.ts): which are service ports (where clients send requests) and which are live
// relays, and of which thread. The peer policy needs both across threads: a relay may send to
// another client's relay on this host (relay to relay, rule 3 of peer-policy.ts) whichever thread
// holds it, and never to a service port of any thread (rule 2). One bit per port and row in a
// SharedArrayBuffer, changed with Atomics: a thread marks its own row only, and when a thread
// dies the one that restarts it clears its row (what it held is gone with it).
//
// Rows: 0 service ports; 1 + n the relays of server n (0: the main thread's, 1.. the workers').
const WORDS_PER_ROW = 65_536 / 32;

/** What one TURN server sees of the board: its own relays to mark, every row to read. */
export interface SharedPorts {
  markRelay(port: number): void;
  unmarkRelay(port: number): void;
  /** A live relay of any server of this host. */
  isRelay(port: number): boolean;
  /** A port some server of this host answers clients on. */
  isService(port: number): boolean;
}

export class PortBoard {
  private readonly words: Int32Array;

  /** A board over `buffer` (from `PortBoard.create` in another thread), or a fresh one for `servers` servers. */
  constructor(
    readonly buffer: SharedArrayBuffer,
    readonly servers: number,
  ) {
    if (buffer.byteLength !== (servers + 1) * WORDS_PER_ROW * 4) throw new RangeError(`a port board for ${servers} servers holds ${(servers + 1) * WORDS_PER_ROW * 4} bytes, not ${buffer.byteLength}`);
    this.words = new Int32Array(buffer);
  }

  static create(servers: number): PortBoard {
    if (!(Number.isInteger(servers) && servers >= 1 && servers <= 256)) throw new RangeError(`a port board is for 1-256 servers, not ${servers}`);
    return new PortBoard(new SharedArrayBuffer((servers + 1) * WORDS_PER_ROW * 4), servers);
  }

  markService(port: number): void {
    this.set(0, port, true);
  }

  unmarkService(port: number): void {
    this.set(0, port, false);
  }

  /** Forgets every relay of `server` (it ended: its sockets are closed). */
  clearRelays(server: number): void {
    const from = (server + 1) * WORDS_PER_ROW;
    for (let i = from; i < from + WORDS_PER_ROW; i++) Atomics.store(this.words, i, 0);
  }

  /** Server `server`'s view. */
  view(server: number): SharedPorts {
    if (!(Number.isInteger(server) && server >= 0 && server < this.servers)) throw new RangeError(`server ${server} of ${this.servers}`);
    return {
      markRelay: (port) => this.set(server + 1, port, true),
      unmarkRelay: (port) => this.set(server + 1, port, false),
      isRelay: (port) => {
        for (let row = 1; row <= this.servers; row++) if (this.has(row, port)) return true;
        return false;
      },
      isService: (port) => this.has(0, port),
    };
  }

  private has(row: number, port: number): boolean {
    if (!(port >= 0 && port <= 65_535)) return false;
    return (Atomics.load(this.words, row * WORDS_PER_ROW + (port >>> 5)) & (1 << (port & 31))) !== 0;
  }

  private set(row: number, port: number, on: boolean): void {
    if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) return;
    const index = row * WORDS_PER_ROW + (port >>> 5);
    const bit = 1 << (port & 31);
    if (on) Atomics.or(this.words, index, bit);
    else Atomics.and(this.words, index, ~bit);
  }
}
