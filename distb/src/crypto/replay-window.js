// A sliding anti-replay window over 64-bit packet counters (the scheme of RFC 4303 3.4.3 and
// RFC 6479): counters newer than any seen move the window; older ones are accepted once if
// still inside it. For datagrams, which may arrive late, twice or out of order. Bounded memory.
export const DEFAULT_REPLAY_WINDOW = 2048;
export class ReplayWindow {
    size;
    bits;
    highest = -1;
    constructor(size = DEFAULT_REPLAY_WINDOW) {
        this.size = size;
        if (size <= 0 || size % 32 !== 0)
            throw new RangeError('replay window size must be a positive multiple of 32');
        this.bits = new Uint32Array(size / 32);
    }
    bit(counter) {
        const index = counter % this.size;
        return [index >>> 5, 1 << (index & 31)];
    }
    /** Whether `counter` may be accepted; does not change the window. */
    check(counter) {
        if (counter > this.highest)
            return 'fresh';
        if (this.highest - counter >= this.size)
            return 'too_old';
        const [word, mask] = this.bit(counter);
        return (this.bits[word] & mask) !== 0 ? 'replayed' : 'fresh';
    }
    /** Records `counter` as seen; call only after the packet authenticated. */
    accept(counter) {
        if (counter > this.highest) {
            // Clear the slots the window slides over (all of them after a jump of a window or more).
            const advance = this.highest < 0 ? this.size : Math.min(counter - this.highest, this.size);
            for (let c = counter - advance + 1; c <= counter; c++) {
                const [word, mask] = this.bit(c);
                this.bits[word] &= ~mask;
            }
            this.highest = counter;
        }
        const [word, mask] = this.bit(counter);
        this.bits[word] |= mask;
    }
}
//# sourceMappingURL=replay-window.js.map