// Builds the app the daemon serves (ui/ → dist/ui/): the page, its script and the audio worklet,
// bundled and minified by esbuild at install time (no CDN at run time), and the stylesheet.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';

const out = 'dist/ui';
mkdirSync(out, { recursive: true });
const common = { bundle: true, minify: true, format: 'esm', target: 'es2022', sourcemap: false, logLevel: 'warning', jsx: 'automatic', jsxImportSource: 'preact' };
await build({ ...common, entryPoints: ['ui/src/main.tsx'], outfile: `${out}/app.js` });
await build({ ...common, entryPoints: ['ui/src/worklet.ts'], outfile: `${out}/worklet.js` });
copyFileSync('ui/index.html', `${out}/index.html`);
copyFileSync('ui/app.css', `${out}/app.css`);
