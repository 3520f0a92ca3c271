/** Typing is said again this often while keys come; this long without a key is a pause. */
export const TYPING_REFRESH_MS = 5_000;
export class TypingSignal {
    clock;
    say;
    activeSinceMs = null;
    lastSaidMs = 0;
    pause = null;
    constructor(clock, say) {
        this.clock = clock;
        this.say = say;
    }
    keystroke() {
        const now = this.clock.now();
        if (this.activeSinceMs === null || now - this.lastSaidMs >= TYPING_REFRESH_MS) {
            this.activeSinceMs ??= now;
            this.lastSaidMs = now;
            this.say(true);
        }
        this.pause?.cancel();
        this.pause = this.clock.after(TYPING_REFRESH_MS, () => this.stop());
    }
    /** The line was sent, or typing paused: "stopped", once. */
    stop() {
        this.pause?.cancel();
        this.pause = null;
        if (this.activeSinceMs === null)
            return;
        this.activeSinceMs = null;
        this.say(false);
    }
}
//# sourceMappingURL=typing-signal.js.map