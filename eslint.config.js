// Lint: ESLint with typescript-eslint (pure JavaScript, so `npm ci` works from any registry
// mirror; biome's per-platform binaries are not all mirrored here).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'native/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-empty': ['error', { allowEmptyCatch: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Node 24's readFileSync(path, 'utf8') corrupts its heap on a large procfs file
      // (src/util/read-text.ts says why): readTextSync reads the same text safely.
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name='readFileSync'][arguments.1.value=/^utf-?8$/i], CallExpression[callee.property.name='readFileSync'][arguments.1.value=/^utf-?8$/i], CallExpression[callee.name='readFileSync'] > ObjectExpression.arguments > Property[key.name='encoding'], CallExpression[callee.property.name='readFileSync'] > ObjectExpression.arguments > Property[key.name='encoding']",
          message: "readFileSync with an encoding crashes Node 24 on large /proc files: use readTextSync from src/util/read-text.ts",
        },
      ],
    },
  },
);
