// What the OpenAPI document says beyond the request schemas (issue 19: it documented no
// responses, no error shape and no security): for every operation its success status, what
// the answer holds, whether it needs a bearer token, and the refusals it can give, all in the one
// error shape server.ts sends. server.ts hands `documentOperations` to @fastify/swagger; an
// operation missing here fails the build of the document (test/login-server/openapi.test.ts), so
// a new route cannot go undocumented.

interface OperationDoc {
  /** The status of a success, and what the body holds. */
  readonly success: readonly [status: 200 | 201 | 202, description: string];
  /** Needs `Authorization: Bearer <access token>` (context.ts authenticate). */
  readonly bearer: boolean;
  /** Statuses of its refusals beside 400 and 500 (which every operation can give). */
  readonly refusals: readonly number[];
}

/** Every operation, by `METHOD /path` as OpenAPI names it. */
export const OPERATIONS: Readonly<Record<string, OperationDoc>> = {
  'POST /v1/accounts': { success: [201, 'The account: its normalised username and display name.'], bearer: false, refusals: [409, 413, 415, 429] },
  'POST /v1/login/password': { success: [200, 'The device certificate and an access token.'], bearer: false, refusals: [401, 409, 413, 415, 429] },
  'POST /v1/login/challenge': { success: [200, 'A single-use challenge for the device to sign, and when it expires.'], bearer: false, refusals: [404, 413, 415, 429] },
  'POST /v1/login/device': { success: [200, 'The device certificate and an access token.'], bearer: false, refusals: [401, 413, 415, 429] },
  'POST /v1/account/password': { success: [200, '`{ changed: true }`.'], bearer: true, refusals: [401, 413, 415] },
  'PATCH /v1/account/privacy': { success: [200, 'The privacy settings now.'], bearer: true, refusals: [401, 413, 415] },
  'DELETE /v1/account': { success: [200, '`{ deleted: true }`.'], bearer: true, refusals: [401, 413, 415] },
  'GET /v1/devices': { success: [200, "The account's devices."], bearer: true, refusals: [401] },
  'POST /v1/devices/current/supernode-certificate': { success: [200, 'A supernode certificate for the calling device.'], bearer: true, refusals: [401, 403, 413, 415] },
  'DELETE /v1/devices/{id}': { success: [200, '`{ revoked: true }`.'], bearer: true, refusals: [401, 404] },
  'GET /v1/info': { success: [200, "The network's name, id, CA key, latest version, bootstrap supernodes and revoked supernode keys."], bearer: false, refusals: [] },
  'GET /v1/version': { success: [200, 'The latest version, and whether it is newer than `current`.'], bearer: false, refusals: [] },
  'GET /v1/contacts': { success: [200, 'The contact list and its version, or `{ version, unchanged: true }`.'], bearer: true, refusals: [401] },
  'PUT /v1/contacts': { success: [200, 'The contact list as stored, with its new version.'], bearer: true, refusals: [401, 404, 409, 413, 415] },
  'POST /v1/buddy-requests': { success: [202, 'The request was taken.'], bearer: true, refusals: [401, 404, 409, 413, 415, 429] },
  'GET /v1/buddy-requests': { success: [200, 'Incoming and outgoing buddy requests.'], bearer: true, refusals: [401] },
  'POST /v1/buddy-requests/{id}/accept': { success: [200, 'Whose request was accepted.'], bearer: true, refusals: [401, 404] },
  'POST /v1/buddy-requests/{id}/decline': { success: [200, 'Whose request was declined.'], bearer: true, refusals: [401, 404] },
  'GET /v1/directory/users/{username}': { success: [200, "The user's directory entry."], bearer: true, refusals: [401, 404] },
  'GET /v1/directory/search': { success: [200, 'Discoverable users whose names start with the prefix, and where the next page starts.'], bearer: true, refusals: [401, 429] },
  'GET /v1/users/{username}/devices': { success: [200, "The user's active devices and their keys."], bearer: true, refusals: [401, 404] },
  'POST /v1/offline/{id}': { success: [202, 'The message was taken.'], bearer: true, refusals: [401, 404, 413, 415, 429, 507] },
  'GET /v1/offline': { success: [200, 'Offline messages for the calling device, oldest first.'], bearer: true, refusals: [401] },
  'POST /v1/offline/ack': { success: [200, 'How many messages were deleted.'], bearer: true, refusals: [401, 413, 415] },
  'POST /v1/supernodes/enrol': { success: [200, "The supernode's id, label, certificate, the live bootstrap list and revoked supernode keys."], bearer: false, refusals: [401, 409, 410, 413, 415, 429] },
  'POST /v1/supernodes/renew': { success: [200, "The supernode's id, label, a fresh certificate, the live bootstrap list and revoked supernode keys."], bearer: false, refusals: [401, 403, 404, 413, 415, 429] },
};

const REFUSALS: Record<number, string> = {
  400: 'Bad input: `invalid_request`, `malformed_json`, `invalid_username`, `invalid_text` and others.',
  401: 'No or a bad access token (`unauthenticated`, `invalid_token`, `expired_token`, `device_revoked`, `account_deleted`), or bad credentials; carries `WWW-Authenticate: Bearer realm="parley"`.',
  403: 'Not allowed.',
  404: 'Not found.',
  409: 'Conflicts with what is stored (a taken username, a stale version, a pending request).',
  410: 'Expired.',
  413: 'Body or list too large.',
  415: 'Not application/json.',
  429: 'Throttled: wait `retryAfterMs` (also in `Retry-After`, seconds).',
  500: 'Internal error.',
  507: "The recipient's quota is full.",
};

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** The components the operations refer to: the error shape and a response for each refusal. */
export const DOC_COMPONENTS = {
  schemas: {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { type: 'string', description: 'Stable, for programs: switch on it.' },
            message: { type: 'string', description: 'For people.' },
            retryAfterMs: { type: 'integer', minimum: 0, description: 'With 429: when to try again.' },
          },
        },
      },
    },
  },
  responses: Object.fromEntries(
    Object.entries(REFUSALS).map(([status, description]) => [
      `Status${status}`,
      {
        description,
        content: { 'application/json': { schema: ERROR_REF } },
        ...(status === '401' ? { headers: { 'WWW-Authenticate': { description: 'RFC 6750 bearer challenge.', schema: { type: 'string' } } } } : {}),
        ...(status === '429' ? { headers: { 'Retry-After': { description: 'Seconds.', schema: { type: 'integer' } } } } : {}),
      },
    ]),
  ),
};

type Operation = { responses?: Record<string, unknown>; security?: unknown };
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Record<string, unknown> };

/** Fills in responses and security of every operation; throws for an operation OPERATIONS does not know. */
export function documentOperations<D extends Document>(document: D): D {
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, methods] of Object.entries(document.paths ?? {})) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(methods)) {
      const doc = OPERATIONS[`${method.toUpperCase()} ${path}`];
      if (!doc) throw new Error(`api-docs.ts does not document ${method.toUpperCase()} ${path}`);
      const refusals = [...new Set([400, ...doc.refusals, 500])].sort((a, b) => a - b);
      paths[path][method] = {
        ...operation,
        ...(doc.bearer ? { security: [{ bearer: [] }] } : { security: [] }),
        responses: {
          [doc.success[0]]: { description: doc.success[1], content: { 'application/json': { schema: { type: 'object' } } } },
          ...Object.fromEntries(refusals.map((status) => [status, { $ref: `#/components/responses/Status${status}` }])),
        },
      };
    }
  }
  return { ...document, paths, components: { ...document.components, ...DOC_COMPONENTS, schemas: { ...(document.components?.schemas as object), ...DOC_COMPONENTS.schemas } } };
}
