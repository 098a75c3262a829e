import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';

/**
 * Every Lua script gem-watch runs, as an ioredis command name → its file in `lua/`. A file is named
 * `<name>-<numKeys>.lua` and opens with a comment listing KEYS, ARGV and the result; the number of
 * keys is read from the name, so the two cannot disagree. One table for all stores, so one script is
 * one command everywhere.
 */
const SCRIPT_FILES = {
  gemwatchSaveJob: 'save-job-6.lua',
  gemwatchRecordHistory: 'record-history-2.lua',
  gemwatchReadJob: 'read-job-3.lua',
  gemwatchAckOutbox: 'ack-outbox-2.lua',
  gemwatchAckOutboxQueued: 'ack-outbox-queued-3.lua',
  gemwatchForgetVanished: 'forget-vanished-3.lua',
  gemwatchReportHealthFlag: 'report-health-flag-1.lua',
  gemwatchClaimPollSlot: 'claim-poll-slot-1.lua',
  gemwatchPollHealthClear: 'poll-health-clear-1.lua',
  gemwatchPollHealthFail: 'poll-health-fail-1.lua',
  gemwatchReleaseLock: 'release-lock-1.lua',
  gemwatchDigestClaim: 'digest-claim-4.lua',
  gemwatchDigestClose: 'digest-close-2.lua',
  gemwatchDigestMissed: 'digest-missed-1.lua',
  gemwatchRateGateAcquire: 'rate-gate-acquire-1.lua',
  gemwatchRateGateHold: 'rate-gate-hold-1.lua',
  gemwatchGatherAdmit: 'gather-admit-5.lua',
  gemwatchGatherClose: 'gather-close-4.lua',
  gemwatchPushLog: 'push-log-1.lua',
  gemwatchMarkDelivered: 'mark-delivered-2.lua',
} as const;

/** The name of one of gem-watch's scripts as a command on a connection. */
export type ScriptName = keyof typeof SCRIPT_FILES;

/** A script as a command: its keys first, then its arguments; the reply as Redis gives it. */
type ScriptCommand = (...keysThenArgs: Array<string | number>) => Promise<unknown>;

/** A connection seen with gem-watch's scripts defined on it. */
export type ScriptCommands = Record<ScriptName, ScriptCommand>;

/** Read once per process: every store on every connection shares the text. */
let sources: Map<ScriptName, { lua: string; numberOfKeys: number }> | undefined;

function loadSources(): Map<ScriptName, { lua: string; numberOfKeys: number }> {
  if (sources) return sources;
  const loaded = new Map<ScriptName, { lua: string; numberOfKeys: number }>();
  for (const [name, file] of Object.entries(SCRIPT_FILES) as Array<[ScriptName, string]>) {
    const lua = readFileSync(new URL(`./lua/${file}`, import.meta.url), 'utf8');
    loaded.set(name, { lua, numberOfKeys: Number(/-(\d+)\.lua$/.exec(file)![1]) });
  }
  sources = loaded;
  return loaded;
}

/**
 * Defines every script on the connection (once; a second store on the same connection finds them)
 * and answers the connection typed with them. ioredis sends a script by its SHA and falls back to
 * its text when Redis does not know it (after a restart or a SCRIPT FLUSH).
 */
export function withScripts(redis: RedisClient): ScriptCommands {
  for (const [name, { lua, numberOfKeys }] of loadSources()) {
    if (name in redis) continue;
    redis.defineCommand(name, { numberOfKeys, lua });
  }
  return redis as unknown as ScriptCommands;
}
