// An adversary inside the network: a supernode with a valid certificate (a compromised machine)
// that forges presence records. It takes a real user's record, points it at itself with a
// higher sequence number (so, if believed, it would replace the real one and draw that user's
// calls and messages), keeps the device's signature, and both publishes it to the user's
// closest supernodes and serves it from its own store to every lookup that asks it. An honest
// node must refuse every such record (bad signature); the simulator checks that none is stored
// by an honest supernode and none reaches a lookup's answer.
import { create, toBinary } from '@bufbuild/protobuf';
import { toBase64Url } from '../crypto/bytes.js';
import { MAX_PRESENCE_BYTES, type VerifiedPresence } from '../overlay/presence.js';
import { PresenceBodySchema, PresenceRecordSchema, decodeProto } from '../wire/messages.js';
import type { RunningSupernode } from '../supernode/supernode.js';

/** The record `real` altered to send its user's traffic to `lure`; its signature no longer matches. */
export function forgeRecord(real: VerifiedPresence, lure: { host: string; port: number; dhKey: Uint8Array }): Uint8Array {
  const outer = decodeProto(PresenceRecordSchema, real.encoded, MAX_PRESENCE_BYTES);
  if (!outer.ok) throw new Error(`forger: cannot read a record it was given: ${outer.error.message}`);
  const body = decodeProto(PresenceBodySchema, outer.value.body, MAX_PRESENCE_BYTES);
  if (!body.ok) throw new Error(`forger: cannot read a record's body: ${body.error.message}`);
  const b = body.value;
  const altered = create(PresenceBodySchema, {
    version: b.version,
    networkId: b.networkId,
    username: b.username,
    certificate: b.certificate,
    supernodes: [{ host: lure.host, port: lure.port, dhKey: lure.dhKey }],
    candidates: [],
    sequence: b.sequence + 1n,
    issuedAtMs: b.issuedAtMs,
    expiresAtMs: b.expiresAtMs,
    natType: b.natType,
  });
  return toBinary(PresenceRecordSchema, create(PresenceRecordSchema, { body: toBinary(PresenceBodySchema, altered), signature: outer.value.signature }));
}

/** Every record the forgers made (by their bytes), and what they did with them. */
export class ForgeryLedger {
  private readonly forged = new Set<string>();
  /** Users whose records were forged (where to look for forgeries in honest stores). */
  readonly victims = new Set<string>();
  /** Forged records published to other supernodes (each sent to the user's closest). */
  published = 0;

  /** The first forgery (for the `accept-forged` injection, which slips it into a lookup's answer). */
  sample: Uint8Array | null = null;

  add(username: string, encoded: Uint8Array): void {
    this.sample ??= encoded;
    this.victims.add(username);
    this.forged.add(toBase64Url(encoded));
  }

  isForged(encoded: Uint8Array): boolean {
    return this.forged.size > 0 && this.forged.has(toBase64Url(encoded));
  }

  get count(): number {
    return this.forged.size;
  }
}

/**
 * One forgery by `forger`: finds `username`'s real records through the overlay, forges each,
 * keeps the forgeries in its own store (it answers lookups with them) and publishes them.
 */
export async function forgeOnce(forger: RunningSupernode, lure: { host: string; port: number; dhKey: Uint8Array }, username: string, ledger: ForgeryLedger): Promise<void> {
  const { records } = await forger.dht.findPresence(username);
  for (const real of records) {
    const encoded = forgeRecord(real, lure);
    ledger.add(username, encoded);
    // A VerifiedPresence that was never verified: the forger's own code trusts it, as a
    // compromised machine's would.
    const fake: VerifiedPresence = { ...real, supernodes: [], candidates: [], sequence: real.sequence + 1, encoded };
    forger.dht.store.put(fake);
    ledger.published++;
    await forger.dht.publish(fake);
  }
}
