// ESLint for the officers' app (plain ES modules, no build step) and its node tests.
// Run with `make lint-js` (or `npx eslint pwa tests/pwa`).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['node_modules/**', '.venv/**', 'server/**', 'docs/**'] },
  js.configs.recommended,
  {
    files: ['pwa/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
  },
  {
    // The service worker is a classic script in its own global scope.
    files: ['pwa/sw.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.serviceworker } },
  },
  {
    files: ['tests/pwa/**/*.mjs', 'eslint.config.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node, ...globals.browser },
    },
  },
  {
    // Split into small functions (issue 9); keep them so. Other modules may follow.
    files: ['pwa/js/ui/form.js', 'pwa/js/ui/log.js'],
    rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] },
  },
  {
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-shadow': 'error',
    },
  },
];
