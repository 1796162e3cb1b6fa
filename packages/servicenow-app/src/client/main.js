// The UI page's entry for the SDK's build: the page itself is built by webpack from src/page
// (`npm run build:servicenow`), with its styles; the SDK bundles both into the page's UX asset.
import '../../../../dist/servicenow-page/exalate-page.css';
import '../../../../dist/servicenow-page/exalate-page.js';
