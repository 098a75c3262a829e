/**
 * The Slack sink moved to src/simulator/slack-sink.ts (the demo runs it); this path stays so tests
 * written against it keep working.
 */
export * from '../../src/simulator/slack-sink.js';
