// Lint rules: typescript-eslint's recommended set, plus the habits STYLE.md asks for
// (no stray console in library code, no floating promises is left to tsc's strictness).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/', 'distb/', 'node_modules/', 'src/wire/gen/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // A closure may read a variable that is assigned once, later (a service created after its listener).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  // The app runs in the browser.
  { files: ['ui/**'], languageOptions: { globals: { ...globals.browser } } },
);
