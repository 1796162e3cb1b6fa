// The ServiceNow page's build: React 18, one script and one stylesheet, no chunks (the SDK bundles
// them into the UI page's single UX asset). Written to dist/servicenow-page/, which
// src/client/main.js imports. Composed by the root webpack.config.js.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';
import MiniCssExtractPlugin from 'mini-css-extract-plugin';
import { frontendResolve, tsxRule } from '../../webpack.shared.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const pageRequire = createRequire(resolve(here, 'package.json'));

/** @type {(o: { production: boolean }) => import('webpack').Configuration} */
export default ({ production }) => ({
  name: 'servicenow-page',
  mode: production ? 'production' : 'development',
  target: 'web',
  entry: { 'exalate-page': resolve(here, 'src/page/index.tsx') },
  output: { path: resolve(root, 'dist/servicenow-page'), filename: '[name].js', clean: true },
  // The SDK's bundler reads this file again: no eval, and no source map comment it cannot follow.
  devtool: false,
  resolve: frontendResolve({
    react$: pageRequire.resolve('react'),
    'react/jsx-runtime$': pageRequire.resolve('react/jsx-runtime'),
    'react-dom$': pageRequire.resolve('react-dom'),
    'react-dom/client$': pageRequire.resolve('react-dom/client'),
  }),
  module: {
    rules: [tsxRule('automatic'), { test: /\.css$/, use: [MiniCssExtractPlugin.loader, 'css-loader'] }],
  },
  plugins: [new MiniCssExtractPlugin({ filename: '[name].css' }), new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 })],
  optimization: { splitChunks: false },
  performance: { hints: false },
  stats: 'errors-warnings',
});
