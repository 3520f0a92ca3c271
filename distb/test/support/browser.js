// Debian's Chromium for the app's tests and benchmarks: headless, driven by playwright-core,
// with fake media devices whose microphone plays a WAV file; and the two apps' addresses that
// `parley local --app` prints.
import { chromium } from 'playwright-core';
export const CHROMIUM = '/usr/bin/chromium';
export function browserWithMicrophone(wav) {
    return chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ['--no-sandbox', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-audio-capture=${wav}`, '--autoplay-policy=no-user-gesture-required'],
    });
}
/** The addresses `parley local --app` printed for `users` (the token in each fragment). */
export function appUrls(output, users) {
    return users.map((user) => new RegExp(`${user}'s app: (http://127\\.0\\.0\\.1:\\d+/#token=[A-Za-z0-9_-]+)`).exec(output)?.[1] ?? '');
}
//# sourceMappingURL=browser.js.map