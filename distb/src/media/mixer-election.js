// Which participant of a conference mixes: the one the others can best reach, with the upload
// to send everyone a stream and the CPU to encode them — not simply the one who started it.
// Every participant runs the same function on the same facts, so all agree without a vote; it
// has hysteresis: the earlier member keeps mixing unless a later one is clearly better.
import { NatType } from '../wire/messages.js';
/** How reachable a participant is: others connect to the mixer, so direct paths matter most. */
const REACHABILITY = {
    [NatType.OPEN]: 5,
    [NatType.FIREWALLED]: 4,
    [NatType.FULL_CONE]: 4,
    [NatType.ADDRESS_RESTRICTED]: 3,
    [NatType.PORT_RESTRICTED]: 3,
    [NatType.UNSPECIFIED]: 2,
    [NatType.SYMMETRIC]: 1,
    [NatType.UDP_BLOCKED]: 0,
    [NatType.WEB_ONLY]: 0,
};
/** Kbit/s a mixer sends each participant (Opus at 24 kbit/s with RTP, SRTP and IP headers). */
export const KBPS_PER_PARTICIPANT = 33;
/**
 * A participant's fitness to mix `size` participants: reachability first; then whether its
 * upload carries a stream to each of the others (a mixer that cannot is no mixer); then CPU.
 */
export function mixerScore(c, size) {
    const needed = KBPS_PER_PARTICIPANT * Math.max(1, size - 1);
    const uploadFits = c.uploadKbps === 0 ? 0.5 : Math.min(1, c.uploadKbps / needed);
    // Known to be too slow for everyone's stream: worse than any reachable one that is not.
    const tooSlow = c.uploadKbps > 0 && c.uploadKbps < needed ? 250 : 0;
    return REACHABILITY[c.natType] * 100 + uploadFits * 50 + Math.min(4, c.cpuCores) * 5 - tooSlow - (c.degraded ? 1000 : 0);
}
/**
 * How much better (in mixerScore points) a later member must be to mix instead of an earlier
 * one: half a step of reachability. Among equals or near-equals the earliest member mixes, so a
 * join never moves the mix (each move is an audible gap: 2.8 s once in a lab conference whose
 * mixer moved twice in 8 s as members joined) unless the newcomer is clearly better placed: a
 * whole NAT class more reachable, or able to carry the streams where the mixer is not.
 */
export const MIXER_MOVE_MARGIN = 50;
/**
 * The mixer among `candidates`, given in the order they joined (the roster's order, which every
 * member shares): the earliest, unless a later one scores more than MIXER_MOVE_MARGIN higher
 * than the best before it. A function of the roster alone, so everyone picks the same.
 */
export function electMixer(candidates) {
    let best = null;
    for (const c of candidates) {
        const score = mixerScore(c, candidates.length);
        if (!best || score > best.score + MIXER_MOVE_MARGIN)
            best = { id: c.id, score };
    }
    return best?.id ?? null;
}
//# sourceMappingURL=mixer-election.js.map