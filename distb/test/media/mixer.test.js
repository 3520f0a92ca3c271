// The conference mixer on the virtual network: five participants, each sending its own tone;
// the first mixes (its own tone from its microphone), the other four send to it over their own
// SRTP legs. Everyone must hear the four other tones and not their own. The limiter keeps a loud
// sum from clipping; levelling brings a quiet voice up.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualNetwork } from '../../src/env/virtual/index.js';
import { BufferSource, MediaReceiver, MediaSender, RecordingSink } from '../../src/media/media-stream.js';
import { ConferenceMixer, Limiter, level } from '../../src/media/mixer.js';
import { electMixer, MIXER_MOVE_MARGIN, mixerScore } from '../../src/media/mixer-election.js';
import { NatType } from '../../src/wire/messages.js';
import { testSeed, withSeed } from '../support/seed.js';
import { tones, toneStrength } from '../../src/media/audio-compare.js';
const TONES = [300, 500, 700, 900, 1100];
const tone = (hz, seconds, amplitude = 4000) => tones([hz], seconds, amplitude);
const strength = toneStrength;
test('five participants: each hears the four others\' tones and not its own', () => withSeed(testSeed(), async (seed) => {
    const network = new VirtualNetwork(seed);
    const drive = (work) => network.scheduler.drive(work, 600_000);
    const hosts = TONES.map(() => network.addHost({ link: { latencyMs: 10, jitterMs: 5 } }));
    const sockets = await drive(Promise.all(hosts.map((h) => h.env().net.bindUdp({ port: 0 }))));
    const mixerEnv = hosts[0].env();
    const mixer = new ConferenceMixer(mixerEnv.clock, mixerEnv.random);
    const heard = TONES.map(() => new RecordingSink());
    mixer.addLocal('p0', new BufferSource(tone(TONES[0], 4)), heard[0]);
    const legs = new Map();
    const ends = [];
    for (let i = 1; i < TONES.length; i++) {
        const env = hosts[i].env();
        const up = { key: env.random.bytes(16), salt: env.random.bytes(14) };
        const down = { key: mixerEnv.random.bytes(16), salt: mixerEnv.random.bytes(14) };
        const participantAddress = { host: hosts[i].addressText, port: sockets[i].local.port };
        const mixerAddress = { host: hosts[0].addressText, port: sockets[0].local.port };
        legs.set(`${participantAddress.host}:${participantAddress.port}`, mixer.add(`p${i}`, { path: { send: (bytes) => sockets[0].send(bytes, participantAddress) }, ourKey: down, theirKey: up }));
        const receiver = new MediaReceiver(env.clock, down, heard[i], { frameMs: 20 });
        sockets[i].onMessage((bytes) => receiver.receive(bytes));
        // p4 stops talking after 2 s: the roster must show it.
        const sender = new MediaSender(env.clock, env.random, { send: (bytes) => sockets[i].send(bytes, mixerAddress) }, up, new BufferSource(tone(TONES[i], i === 4 ? 2 : 4)), { frameMs: 20 });
        sender.start();
        ends.push({ sender, receiver });
    }
    sockets[0].onMessage((bytes, from) => legs.get(`${from.host}:${from.port}`)?.receive(bytes));
    mixer.start();
    await drive(new Promise((resolve) => network.scheduler.after(3_500, resolve)));
    assert.deepEqual(mixer.roster(), ['p0', 'p1', 'p2', 'p3', 'p4'].map((id) => ({ id, speaking: id !== 'p4' })));
    mixer.stop();
    for (const e of ends) {
        e.sender.stop();
        e.receiver.stop();
    }
    heard.forEach((sink, i) => {
        // A steady second in the middle, after everyone's first packets.
        const steady = sink.samples().subarray(48_000, 96_000);
        const levels = TONES.map((hz) => strength(steady, hz));
        const others = levels.filter((_, j) => j !== i);
        const table = levels.map((l) => l.toFixed(0)).join(' ');
        // The others' tones at about the level they were sent; its own at least 20 dB below the weakest
        // of them. Not zero: Opus at 24 kbit/s coding four tones puts intermodulation (e.g. 2·500 − 300
        // = 700 Hz) about 25 dB down; a mix with its own voice in it would have it at full level.
        assert.ok(Math.min(...others) > 1000, `p${i} hears the others at ${table}`);
        assert.ok(levels[i] < 0.1 * Math.min(...others), `p${i} hears its own ${TONES[i]} Hz: ${table}`);
    });
}));
test('the limiter never clips and recovers its gain; levelling brings quiet voices up and loud ones down, silence stays silent', () => {
    const loud = tone(400, 0.02, 30_000);
    const limiter = new Limiter();
    const mixed = limiter.mix([level(loud), level(loud), Float32Array.from(loud)], loud.length);
    assert.ok(Math.max(...mixed.map(Math.abs)) <= 32_000);
    assert.ok(Math.max(...mixed.map(Math.abs)) > 20_000, 'scaled, not silenced');
    // A quiet frame afterwards: the gain comes back towards 1 over frames, not at once.
    const quiet = level(tone(400, 0.02, 1000));
    const after = limiter.mix([quiet], quiet.length);
    assert.ok(Math.max(...after.map(Math.abs)) < Math.max(...quiet.map(Math.abs)), 'gain recovers slowly');
    const rms = (f) => Math.sqrt(f.reduce((s, v) => s + v * v, 0) / f.length);
    assert.ok(Math.abs(rms(level(tone(400, 0.02, 1500))) - 3000) < 100, 'quiet up to the target');
    assert.ok(Math.abs(rms(level(tone(400, 0.02, 500))) - 4 * 354) < 50, 'but by at most 4×');
    assert.ok(Math.abs(rms(level(tone(400, 0.02, 20_000))) - 3000) < 100, 'loud down to the target');
    assert.equal(rms(level(new Int16Array(960))), 0);
});
test('mixer election: the most reachable participant with the upload for everyone mixes, not the one who started; all agree', () => {
    const caller = { id: 'alice', natType: NatType.SYMMETRIC, uploadKbps: 10_000, cpuCores: 8 };
    const openButSlow = { id: 'bob', natType: NatType.OPEN, uploadKbps: 64, cpuCores: 4 };
    const fullCone = { id: 'carol', natType: NatType.FULL_CONE, uploadKbps: 2_000, cpuCores: 2 };
    const webOnly = { id: 'dave', natType: NatType.WEB_ONLY, uploadKbps: 50_000, cpuCores: 16 };
    const everyone = [caller, openButSlow, fullCone, webOnly];
    // bob is open, but 64 kbit/s cannot carry three streams; carol is reachable and can.
    assert.equal(electMixer(everyone), 'carol');
    assert.ok(mixerScore(fullCone, 4) > mixerScore(caller, 4), 'reachable beats the caller\'s fast machine');
    // With enough upload, the open one wins.
    assert.equal(electMixer([caller, { ...openButSlow, uploadKbps: 1_000 }, fullCone, webOnly]), 'bob');
    // A clearly better one wins in any order (everyone shares the roster's order, so all agree).
    assert.equal(electMixer([webOnly, fullCone, caller]), 'carol');
    // Among equally reachable ones, an upload too slow for everyone loses.
    assert.equal(electMixer([{ ...fullCone, id: 'a', uploadKbps: 20 }, { ...fullCone, id: 'b', uploadKbps: 5_000 }]), 'b');
    assert.equal(electMixer([]), null);
});
test('mixer election has hysteresis: among equals the earliest keeps mixing as others join; a later one must be better by the margin', () => {
    const member = (id, natType = NatType.PORT_RESTRICTED, uploadKbps = 0) => ({ id, natType, uploadKbps, cpuCores: 4 });
    // A conference of equals that grows one join at a time (ids in no helpful order): the mix never moves.
    const roster = [member('mia'), member('ava'), member('zoe'), member('bo'), member('al')];
    const mixers = roster.map((_, i) => electMixer(roster.slice(0, i + 1)));
    assert.deepEqual(mixers, ['mia', 'mia', 'mia', 'mia', 'mia']);
    // Slightly better (a known upload: +25 points) is not enough; a NAT class more reachable (+100) is.
    const known = member('kim', NatType.PORT_RESTRICTED, 5_000);
    assert.ok(mixerScore(known, 2) > mixerScore(roster[0], 2) && mixerScore(known, 2) <= mixerScore(roster[0], 2) + MIXER_MOVE_MARGIN);
    assert.equal(electMixer([roster[0], known]), 'mia');
    assert.equal(electMixer([roster[0], member('kim', NatType.FULL_CONE)]), 'kim');
    // When the mixer leaves, the earliest of the rest takes over: the same for every member.
    assert.equal(electMixer(roster.slice(1)), 'ava');
});
//# sourceMappingURL=mixer.test.js.map