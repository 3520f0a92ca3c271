// Debian's Chromium for the app's tests and benchmarks: headless, driven by playwright-core,
// with fake media devices whose microphone plays a WAV file; and the two apps' addresses that
// `parley local --app` prints.
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** What a test reads of a page's window. */
export type PageWindow = {
  parleyDiagnostics?: {
    heardSamples(): number[];
    /** Call audio frames as captured and as played, with epoch times on the page's audio clock (see ui/src/audio.ts). */
    timedFrames(): { captured: { atMs: number; samples: Int16Array }[]; played: { atMs: number; samples: Int16Array }[]; outputLatencyMs: number };
  };
};

export function browserWithMicrophone(wav: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
  });
}

/** The addresses `parley local --app` printed for `users` (the token in each fragment). */
export function appUrls(output: string, users: readonly string[]): string[] {
  return users.map((user) => new RegExp(`${user}'s app: (http://127\\.0\\.0\\.1:\\d+/#token=[A-Za-z0-9_-]+)`).exec(output)?.[1] ?? '');
}
