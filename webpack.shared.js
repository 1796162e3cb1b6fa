// What every frontend's webpack configuration shares: workspace packages from source (as the tests
// use them), NodeNext-style `.js` imports resolved to the TypeScript beside them, and swc for TSX.
// Each frontend adds its own React, UI kit, entry and output (packages/*/webpack.config.js).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** `resolve` for a frontend: the workspace packages it may import, plus the aliases it brings (its React). */
export function frontendResolve(aliases) {
  return {
    extensions: ['.tsx', '.ts', '.js'],
    extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
    alias: {
      '@exalate/wizard-core$': resolve(root, 'packages/wizard-core/src/index.ts'),
      '@exalate/contract$': resolve(root, 'packages/contract/src/index.ts'),
      '@exalate/rule-editor$': resolve(root, 'packages/rule-editor/src/index.ts'),
      ...aliases,
    },
  };
}

/** TypeScript and TSX through swc, with the JSX runtime the frontend's React has ('classic' for 16). */
export function tsxRule(runtime) {
  return {
    test: /\.tsx?$/,
    exclude: /node_modules/,
    use: { loader: 'swc-loader', options: { jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime } }, target: 'es2020' } } },
  };
}
