export { percentile, pool, ms } from './stats.js';
