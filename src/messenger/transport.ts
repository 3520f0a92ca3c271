// What the messenger needs from the world around it, as narrow interfaces: the overlay that
// routes a payload to one device of a user (`SignallingTransport`), the login server's store
// for devices that are offline (`OfflineStore`), and how this user stands to another (`Relation`,
// from its contact list). Adapters in src/client/ implement the first two on an attachment and
// an account; tests implement them in a few lines.

/**
 * What became of one routed payload, when the transport knows: `absent` — the overlay says the
 * device is not online (no record, or its supernode says it is not attached); `unreachable` —
 * its supernode did not answer, or the device did not acknowledge the delivery.
 */
export type SendOutcome = 'delivered' | 'absent' | 'unreachable';

/** What the messenger needs from the overlay: route to one device of a user, list a user's devices, hear routed payloads. */
export interface SignallingTransport {
  send(toUser: string, deviceKey: Uint8Array, payload: Uint8Array): Promise<SendOutcome | void>;
  devices(username: string): Promise<Uint8Array[]>;
  onReceive(handler: (fromUser: string, payload: Uint8Array) => void): void;
}

/** The login server's offline store, for users with no device online. */
export interface OfflineStore {
  /** The user's devices (online or not) with the ids the store addresses them by. */
  devicesOf(username: string): Promise<{ id: number; dhKey: Uint8Array }[]>;
  store(deviceId: number, ciphertext: Uint8Array): Promise<void>;
  /** Messages waiting for this device, oldest first, a page at a time. */
  fetch(): Promise<{ id: number; sender: string; ciphertext: Uint8Array; storedAtMs: number }[]>;
  ack(ids: number[]): Promise<void>;
}

/** How this user stands to another, from its contact list. */
export type Relation = 'buddy' | 'blocked' | 'stranger';
