// The ops endpoint: /metrics in a format a strict reader accepts, /healthz, /readyz that follows
// the readiness check (and its failures and hangs), and its refusals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { startOpsServer } from '../../src/ops/ops-server.js';
import { httpRequest, parseExposition, scrape } from '../support/prometheus.js';
test('the strict reader refuses malformed expositions', () => {
    const good = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1",y="q\\"uote"} 3\n# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 0.5\nh_count 1\n';
    const parsed = parseExposition(good);
    assert.equal(parsed.value('a_total', { x: '1', y: 'q"uote' }), 3);
    assert.equal(parsed.value('h_bucket', { le: '+Inf' }), 1);
    const bad = [
        ['no TYPE', 'a_total 1\n'],
        ['sample of another family', '# TYPE a counter\nb 1\n'],
        ['bad number', '# TYPE a gauge\na one\n'],
        ['unquoted label', '# TYPE a gauge\na{x=1} 1\n'],
        ['bad escape', '# TYPE a gauge\na{x="\\t"} 1\n'],
        ['unterminated labels', '# TYPE a gauge\na{x="1" 1\n'],
        ['duplicate series', '# TYPE a gauge\na 1\na 2\n'],
        ['bucket without le', '# TYPE h histogram\nh_bucket 1\n'],
        ['unknown type', '# TYPE a meter\na 1\n'],
        ['no final newline', '# TYPE a gauge\na 1'],
        ['two spaces', '# TYPE a gauge\na  1\n'],
    ];
    for (const [name, text] of bad)
        assert.throws(() => parseExposition(text), Error, name);
});
test('/metrics serves the given registry and the process metrics; /healthz; other methods and paths are refused', async () => {
    const registry = new Registry();
    const jobs = new Counter({ name: 'test_jobs_total', help: 'Jobs done.', labelNames: ['kind'], registers: [registry] });
    const took = new Histogram({ name: 'test_job_seconds', help: 'Job time.', buckets: [0.1, 1], registers: [registry] });
    const ops = await startOpsServer({ port: 0, registry, ready: () => ({ ready: true }) });
    try {
        assert.equal(ops.host, '127.0.0.1', 'loopback unless asked');
        const before = await scrape(ops.port);
        assert.equal(before.value('test_jobs_total', { kind: 'a' }), undefined);
        jobs.inc({ kind: 'a' }, 3);
        took.observe(0.5);
        const after = await scrape(ops.port);
        assert.equal(after.value('test_jobs_total', { kind: 'a' }), 3);
        assert.equal(after.value('test_job_seconds_bucket', { le: '0.1' }), 0);
        assert.equal(after.value('test_job_seconds_bucket', { le: '1' }), 1);
        assert.equal(after.types.get('nodejs_eventloop_lag_seconds'), 'gauge');
        assert.ok((after.value('nodejs_eventloop_lag_p99_seconds') ?? -1) >= 0, 'event-loop lag percentiles');
        assert.ok((after.value('process_resident_memory_bytes') ?? 0) > 0);
        const health = await httpRequest(ops.port, '/healthz');
        assert.deepEqual([health.status, health.body], [200, 'ok\n']);
        const post = await httpRequest(ops.port, '/metrics', { method: 'POST' });
        assert.equal(post.status, 405);
        assert.equal(post.headers.allow, 'GET');
        assert.equal((await httpRequest(ops.port, '/metrics/../etc')).status, 404);
        assert.equal((await httpRequest(ops.port, '/')).status, 404);
        assert.equal((await httpRequest(ops.port, '/healthz', { headers: { 'x-big': 'x'.repeat(8000) } })).status, 431, 'headers are bounded');
    }
    finally {
        await ops.close();
    }
});
test('/readyz is 503 with the reason while not ready, when the check throws and when it hangs', async () => {
    let state = { ready: false, reason: 'database does not answer' };
    let mode = 'value';
    let release = () => { };
    const ops = await startOpsServer({
        port: 0,
        registry: new Registry(),
        readyTimeoutMs: 100,
        ready: () => {
            if (mode === 'throw')
                throw new Error('boom');
            if (mode === 'hang')
                return new Promise((resolve) => (release = () => resolve({ ready: true })));
            return state;
        },
    });
    try {
        const notReady = await httpRequest(ops.port, '/readyz');
        assert.deepEqual([notReady.status, notReady.body], [503, 'not ready: database does not answer\n']);
        state = { ready: true };
        assert.equal((await httpRequest(ops.port, '/readyz')).status, 200);
        mode = 'throw';
        assert.equal((await httpRequest(ops.port, '/readyz')).status, 503);
        mode = 'hang';
        // Two probes while the check hangs: both get 503 at the timeout, from one check.
        const [a, b] = await Promise.all([httpRequest(ops.port, '/readyz'), httpRequest(ops.port, '/readyz')]);
        assert.deepEqual([a.status, b.status], [503, 503]);
        assert.match(a.body, /longer than 100 ms/);
        assert.equal((await httpRequest(ops.port, '/healthz')).status, 200, 'alive all the same');
    }
    finally {
        release();
        await ops.close();
    }
});
//# sourceMappingURL=ops-server.test.js.map