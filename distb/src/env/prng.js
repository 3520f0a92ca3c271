export class SeededRandom {
    seed;
    a;
    b;
    c;
    d;
    constructor(seed) {
        this.seed = seed;
        // Spread the 32-bit seed over the state with splitmix32, then warm up.
        let s = seed >>> 0;
        const next = () => {
            s = (s + 0x9e3779b9) >>> 0;
            let z = s;
            z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
            z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
            return (z ^ (z >>> 16)) >>> 0;
        };
        this.a = next();
        this.b = next();
        this.c = next();
        this.d = next();
        for (let i = 0; i < 12; i++)
            this.nextUint32();
    }
    nextUint32() {
        const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
        this.d = (this.d + 1) >>> 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) >>> 0;
        this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
        this.c = (this.c + t) >>> 0;
        return t;
    }
    float() {
        return this.nextUint32() / 4294967296;
    }
    int(maxExclusive) {
        return Math.floor(this.float() * maxExclusive);
    }
    bytes(count) {
        const out = new Uint8Array(count);
        for (let i = 0; i < count; i += 4) {
            let word = this.nextUint32();
            for (let j = i; j < Math.min(i + 4, count); j++) {
                out[j] = word & 0xff;
                word >>>= 8;
            }
        }
        return out;
    }
    /** An independent generator derived from this one (e.g. one per simulated host). */
    fork() {
        return new SeededRandom(this.nextUint32());
    }
}
//# sourceMappingURL=prng.js.map