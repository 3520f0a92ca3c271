// Writes docs/openapi.json: the OpenAPI document the login server serves at /openapi.json.
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../dist/src/login-server/store/database.js';
import { testServer } from '../dist/test/support/login-server.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-openapi-'));
const server = await testServer(await openDatabase(join(dir, 'db')));
const response = await server.app.inject({ method: 'GET', url: '/openapi.json' });
writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(response.json(), null, 2)}\n`);
await server.close();
rmSync(dir, { recursive: true, force: true });
console.log('wrote docs/openapi.json');
