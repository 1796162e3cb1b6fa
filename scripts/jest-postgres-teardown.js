export { teardown as default } from './jest-postgres.js';
