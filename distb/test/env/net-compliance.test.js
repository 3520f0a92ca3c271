// The same compliance suite, once on real loopback sockets and once on the virtual network.
import { realNet } from '../../src/env/real.js';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { netComplianceSuite } from '../support/net-compliance.js';
import { testSeed, withSeed } from '../support/seed.js';
netComplianceSuite('real loopback', async () => ({
    a: realNet,
    b: realNet,
    aHost: '127.0.0.1',
    bHost: '127.0.0.1',
    run: (work) => work(),
    close: () => { },
}));
netComplianceSuite('virtual network', async () => {
    const seed = testSeed();
    const network = new VirtualNetwork(seed);
    const a = network.addHost({ link: { latencyMs: 5, jitterMs: 3 } });
    const b = network.addHost({ link: { latencyMs: 7, bandwidthBps: 10_000_000 } });
    return {
        a: a.net,
        b: b.net,
        aHost: a.addressText,
        bHost: b.addressText,
        run: (work) => withSeed(seed, () => network.scheduler.drive(work())),
        close: () => { },
    };
});
//# sourceMappingURL=net-compliance.test.js.map