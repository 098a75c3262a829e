export { freePort } from '../../src/simulator/redis-server.js';
