// The Azure DevOps hub's build: React 16 (azure-devops-ui's range), one entry, written to
// dist/ado-hub/ (the folder vss-extension.json packages). Composed by the root webpack.config.js.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { frontendResolve, tsxRule } from '../../webpack.shared.js';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const hubRequire = createRequire(resolve(here, 'package.json'));

/** @type {(o: { production: boolean }) => import('webpack').Configuration} */
export default ({ production }) => ({
  name: 'ado-hub',
  mode: production ? 'production' : 'development',
  target: 'web',
  entry: { hub: resolve(here, 'src/index.tsx') },
  // Chunks (the code editor) carry a content hash: a new release never meets an old cached chunk.
  output: { path: resolve(root, 'dist/ado-hub'), filename: '[name].js', chunkFilename: '[name].[contenthash:8].js', clean: true },
  devtool: production ? 'source-map' : 'eval-cheap-module-source-map',
  resolve: frontendResolve({
    // One React, the version azure-devops-ui supports (16), whatever else the repository holds.
    react$: hubRequire.resolve('react'),
    'react-dom$': hubRequire.resolve('react-dom'),
  }),
  module: {
    rules: [
      tsxRule('classic'),
      { test: /\.css$/, use: ['style-loader', 'css-loader'] },
      { test: /\.(woff2?|ttf|eot|svg|png)$/, type: 'asset/resource', generator: { filename: 'assets/[name].[contenthash:8][ext]' } },
    ],
  },
  plugins: [new HtmlWebpackPlugin({ template: resolve(here, 'src/hub.html'), filename: 'hub.html', chunks: ['hub'] })],
  // One async chunk only (the code editor, with CodeMirror in it): nothing to share between chunks.
  optimization: { splitChunks: false },
  performance: { hints: false },
  stats: 'errors-warnings',
});
