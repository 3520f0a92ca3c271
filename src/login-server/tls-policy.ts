// The login server's TLS: 1.2 and 1.3, and in 1.2 only ECDHE key exchange with AEAD ciphers
// (forward secrecy, no CBC, no SHA-1 MACs, no RSA key transport). Node's default list allows
// CBC-SHA1 suites in TLS 1.2 (issue 19). Parley's own clients (src/client/login-client.ts) are
// Node and speak 1.3; browsers reach the login server only through the daemon. 1.2 stays for
// operators' tools and load balancers that check health over it; every suite below is one that
// current TLS stacks offer.
import type { SecureContextOptions, TlsOptions } from 'node:tls';

/** TLS 1.3 suites first (Node takes them from the same list), then the TLS 1.2 ones. */
export const LOGIN_SERVER_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export const LOGIN_SERVER_TLS: Pick<TlsOptions & SecureContextOptions, 'minVersion' | 'ciphers' | 'honorCipherOrder'> = {
  minVersion: 'TLSv1.2',
  ciphers: LOGIN_SERVER_CIPHERS,
  honorCipherOrder: true,
};
