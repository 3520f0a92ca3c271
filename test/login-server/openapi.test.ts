// The OpenAPI document (issue 19 item 7): valid OpenAPI 3.0 by the rules a generated document
// can break, every operation with its responses in the one error shape, and its security true to
// what the server does — an operation documented as needing a bearer token answers 401 with a
// WWW-Authenticate challenge without one, and a public one does not ask for a token.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { freshDatabase } from '../support/databases.js';
import { call, testServer } from '../support/login-server.js';
import { checkOpenApi30 } from '../support/openapi-check.js';

const written = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8')) as Record<string, unknown>;

test('docs/openapi.json is valid OpenAPI 3.0: no empty required, every operation has responses, every $ref resolves', () => {
  assert.deepEqual(checkOpenApi30(written as never), []);
});

test('the check finds what was wrong before: an empty required list, an operation without responses, an undeclared security scheme', () => {
  const broken = {
    openapi: '3.0.3',
    info: { title: 't', version: '1' },
    paths: {
      '/a': { get: { parameters: [{ name: 'q', in: 'query', schema: { type: 'object', properties: {}, required: [] } }] } },
      '/b/{id}': { post: { responses: { '200': { description: 'ok' } }, security: [{ nobody: [] }] } },
    },
  };
  const problems = checkOpenApi30(broken);
  assert.ok(problems.some((p) => p.includes('required is a non-empty list')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('GET /a: responses')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes("security names 'nobody'")), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('{id} has no path parameter')), problems.join('\n'));
});

test('every operation documents its refusals in the error shape, and its security is what the server asks for', async () => {
  const fresh = await freshDatabase('sqlite');
  const server = await testServer(await fresh.open());
  try {
    const paths = written.paths as Record<string, Record<string, { security?: unknown[]; responses: Record<string, { $ref?: string }> }>>;
    let bearer = 0;
    let challenged = 0;
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        assert.equal(operation.responses['400']?.$ref, '#/components/responses/Status400', where);
        const url = path.replace(/\{[^}]+\}/g, (m) => (m === '{id}' ? '1' : 'somebody'));
        // No token, and a body the schema refuses where there is one: a route that authenticates
        // first answers 401; a public one gets as far as checking the body.
        const response = await call(server.app, method.toUpperCase() as 'GET', url, ['post', 'put', 'patch', 'delete'].includes(method) ? {} : undefined);
        const needsToken = (operation.security ?? []).some((r) => Object.keys(r as object).includes('bearer'));
        if (needsToken) {
          bearer++;
          assert.ok(operation.responses['401'], `${where} documents 401`);
          if (response.status === 401) {
            assert.equal(response.body.error?.code, 'unauthenticated', where);
            assert.equal(response.headers['www-authenticate'], 'Bearer realm="parley"', where);
            challenged++;
          } else assert.equal(response.status, 400, `${where}: refused before authentication only for its body`);
        } else {
          assert.notEqual(response.body.error?.code, 'unauthenticated', `${where} is documented as public`);
        }
      }
    }
    assert.ok(bearer >= 15, `${bearer} operations need a token`);
    assert.ok(challenged >= 8, `${challenged} of them were asked for one without a body to refuse first`);
  } finally {
    await server.close();
    await fresh.drop();
  }
});
