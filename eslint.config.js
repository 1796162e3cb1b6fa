// ESLint for the whole tree (`npm run lint`, part of `npm test`). TypeScript is checked with its
// types where that finds real bugs (promises nobody waits for, a promise where a value is
// expected); an import cycle inside a package is an error. import-x skips type-only imports,
// so `npm run lint` also runs dpdm, which counts them: a cycle held by a type is still two
// modules that cannot be read apart. Cycles between packages cannot happen: `tsc -b` refuses
// circular project references. Formatting is Prettier's (`npm run format`), so no rule here
// is about layout.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      'build/',
      'coverage/',
      'packages/servicenow-app/target/',
      'packages/servicenow-app/@types/',
      'packages/servicenow-app/.now/',
      'packages/servicenow-app/src/fluent/generated/',
      'packages/jira-app/target/',
    ],
  },
  js.configs.recommended,
  {
    files: ['**/*.{ts,tsx,mts}'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      // Each package's sources by its own tsconfig, the tests and scripts by the tests' one.
      parserOptions: { project: ['./packages/*/tsconfig.json', './tsconfig.tests.json'], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: {
      // import-x reads each imported file itself: without these it cannot parse TypeScript and sees no cycle.
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ alwaysTryTypes: true })],
    },
    rules: {
      // The type-aware rules that pay: a floating promise loses its error, a promise in a
      // condition or a callback that wants void is a bug waiting.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/await-thenable': 'error',
      // `_name` marks what is left unused on purpose (a destructured-away column, a callback's argument).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // ServiceNow's Fluent sources: the SDK compiles them with its own types (now-sdk build), not tsc.
    files: ['packages/servicenow-app/src/fluent/**/*.ts'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { parserOptions: { project: false } },
  },
  {
    // Node scripts and build files.
    files: ['**/*.{js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] },
  },
  {
    // The page loader in the ServiceNow instance's browser.
    files: ['packages/servicenow-app/src/client/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Scripts ServiceNow runs on the instance (Rhino), with the instance's server-side API.
    files: ['packages/servicenow-app/src/scripts/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { gs: 'readonly', sn_ws: 'readonly', GlideRecord: 'readonly', Class: 'readonly', JSON: 'readonly', request: 'readonly', response: 'readonly' },
    },
  },
  prettier,
);
