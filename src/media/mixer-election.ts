// Which participant of a conference mixes: the one the others can best reach, with the upload
// to send everyone a stream and the CPU to encode them — not simply the one who started it.
// Every participant runs the same function on the same facts, so all agree without a vote.
import { NatType } from '../wire/messages.js';

export interface MixerCandidate {
  readonly id: string;
  /** What the participant's NAT detection found (docs/nat.md). */
  readonly natType: NatType;
  /** Upload bandwidth it measured or was measured at (a supernode's dial-back), kbit/s; 0 if unknown. */
  readonly uploadKbps: number;
  /** Cores free for the mix, 0-N (a busy laptop less, a desktop more). */
  readonly cpuCores: number;
  /** The others found its mix arriving badly (loss): any other mixes before it. */
  readonly degraded?: boolean;
}

/** How reachable a participant is: others connect to the mixer, so direct paths matter most. */
const REACHABILITY: Record<NatType, number> = {
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
export function mixerScore(c: MixerCandidate, size: number): number {
  const needed = KBPS_PER_PARTICIPANT * Math.max(1, size - 1);
  const uploadFits = c.uploadKbps === 0 ? 0.5 : Math.min(1, c.uploadKbps / needed);
  // Known to be too slow for everyone's stream: worse than any reachable one that is not.
  const tooSlow = c.uploadKbps > 0 && c.uploadKbps < needed ? 250 : 0;
  return REACHABILITY[c.natType] * 100 + uploadFits * 50 + Math.min(4, c.cpuCores) * 5 - tooSlow - (c.degraded ? 1000 : 0);
}

/** The mixer among `candidates` (ties: the smallest id, so everyone picks the same). */
export function electMixer(candidates: readonly MixerCandidate[]): string | null {
  let best: { id: string; score: number } | null = null;
  for (const c of candidates) {
    const score = mixerScore(c, candidates.length);
    if (!best || score > best.score || (score === best.score && c.id < best.id)) best = { id: c.id, score };
  }
  return best?.id ?? null;
}
