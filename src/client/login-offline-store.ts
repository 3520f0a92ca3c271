// The messenger's offline store on the login server's API (`/v1/users/:name/devices`,
// `/v1/offline`): an adapter of src/messenger/transport.ts on this device's account.
import { LoginError } from './login-client.js';
import { fromBase64Url, toBase64Url } from '../crypto/bytes.js';
import type { OfflineStore } from '../messenger/transport.js';

function bytes(text: string): Uint8Array {
  const value = fromBase64Url(text);
  if (!value) throw new Error('the login server sent bytes that are not base64url');
  return value;
}

/** The login server as this user (`Account.call`). */
export interface LoginServerCalls {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
}

export function loginServerOfflineStore(account: LoginServerCalls): OfflineStore {
  return {
    devicesOf: async (username) => {
      try {
        const answer = await account.call<{ devices: { id: number; dhKey: string }[] }>('GET', `/v1/users/${encodeURIComponent(username)}/devices`);
        return answer.devices.map((d) => ({ id: d.id, dhKey: bytes(d.dhKey) }));
      } catch (error) {
        if (error instanceof LoginError && error.status === 404) return []; // no such user (or blocked: the same answer)
        throw error;
      }
    },
    store: async (deviceId, ciphertext) => {
      await account.call('POST', `/v1/offline/${deviceId}`, { ciphertext: toBase64Url(ciphertext) });
    },
    fetch: async () => {
      const answer = await account.call<{ messages: { id: number; sender: string; ciphertext: string; createdAtMs: number }[] }>('GET', '/v1/offline?limit=100');
      return answer.messages.map((m) => ({ id: m.id, sender: m.sender, ciphertext: bytes(m.ciphertext), storedAtMs: m.createdAtMs }));
    },
    ack: async (ids) => {
      await account.call('POST', '/v1/offline/ack', { ids });
    },
  };
}
