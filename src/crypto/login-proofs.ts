// What a device signs for the login server, the part both ends share (as enrolment.ts is for
// supernodes): the client signs these messages with its device key, the login server's account
// routes rebuild them and verify the signature. Each starts with its own context string, so a
// signature made for one can never pass for the other, or for any other message we sign.
import { concatBytes } from './bytes.js';

const DEVICE_PROOF_CONTEXT = new TextEncoder().encode('parley-device-proof-v1\0');
const CHALLENGE_CONTEXT = new TextEncoder().encode('parley-login-challenge-v1\0');

/** What a device signs to prove it holds its signing key and binds its DH key to the account. */
export function deviceProofMessage(networkId: Uint8Array, username: string, dhKey: Uint8Array): Uint8Array {
  return concatBytes(DEVICE_PROOF_CONTEXT, networkId, dhKey, new TextEncoder().encode(username));
}

/** What a device signs to log in again with a challenge. */
export function challengeMessage(networkId: Uint8Array, challenge: Uint8Array): Uint8Array {
  return concatBytes(CHALLENGE_CONTEXT, networkId, challenge);
}
