// The Jira page's build: React 18 (Atlaskit needs it), one entry, styles extracted to files (ours and
// Atlaskit's own .compiled.css) for the app's web-resource. Written to dist/jira-admin/, which
// `npm run package:jira` puts in the jar. Composed by the root webpack.config.js.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { frontendResolve, tsxRule } from '../../webpack.shared.js';
import MiniCssExtractPlugin from 'mini-css-extract-plugin';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const pageRequire = createRequire(resolve(here, 'package.json'));

/** @type {(o: { production: boolean }) => import('webpack').Configuration} */
export default ({ production }) => ({
  name: 'jira-admin',
  mode: production ? 'production' : 'development',
  target: 'web',
  entry: { 'jira-admin': resolve(here, 'src/index.tsx') },
  // Jira serves every file of the web-resource under one fixed name: no hashes, and the chunk's
  // public path is taken from the script that loaded it.
  output: { path: resolve(root, 'dist/jira-admin'), filename: '[name].js', chunkFilename: '[name].js', publicPath: 'auto', clean: true },
  devtool: production ? 'source-map' : 'eval-cheap-module-source-map',
  resolve: frontendResolve({
    // One React for the page and Atlaskit (18), whatever else the repository holds.
    react$: pageRequire.resolve('react'),
    'react/jsx-runtime$': pageRequire.resolve('react/jsx-runtime'),
    'react-dom$': pageRequire.resolve('react-dom'),
    'react-dom/client$': pageRequire.resolve('react-dom/client'),
  }),
  module: {
    rules: [
      tsxRule('automatic'),
      { test: /\.css$/, use: [MiniCssExtractPlugin.loader, 'css-loader'] },
      { test: /\.(woff2?|ttf|eot|svg|png)$/, type: 'asset/resource', generator: { filename: 'assets/[name][ext]' } },
    ],
  },
  plugins: [new MiniCssExtractPlugin({ filename: '[name].css', chunkFilename: '[name].css' })],
  optimization: { splitChunks: false },
  performance: { hints: false },
  stats: 'errors-warnings',
});
