import type { DigestModel } from '../../../domain/digest.js';
import { etaRelative, kmChange, matchedChange, oneLine, periodLabel, periodLength, stallNote, summaryLine } from '../../../templates/digest-format.js';
import { formatDuration, formatKm, formatNumber, formatPercent, type Fact } from '../../../templates/format.js';
import { contextBlock, factSet, labelBlock, teamsMessage, textBlock, titleBlock, type TeamsElement, type TeamsMessage } from './teams-message.js';

/**
 * The digest as a Teams summary card: counts, totals, and the first few jobs of each list (the
 * full lists are in the e-mail). Names from the API are escaped by the shared card helpers.
 */

export interface DigestTeamsOptions {
  /** Jobs listed per section; the rest are counted. Default 8. */
  maxItems?: number;
}

const NAME_CHARS = 80;
const MESSAGE_CHARS = 200;

function jobName(job: { inputFile?: string; jobId: string; jobType: string }): string {
  const title = job.inputFile === undefined ? `job ${oneLine(job.jobId, NAME_CHARS)}` : oneLine(job.inputFile, NAME_CHARS);
  return `${title} (${oneLine(job.jobType, NAME_CHARS)} ${oneLine(job.jobId, NAME_CHARS)})`;
}

function listSection<T>(title: string, items: readonly T[], maxItems: number, fact: (item: T) => Fact): TeamsElement[] {
  if (items.length === 0) return [];
  const shown = items.slice(0, maxItems);
  const out: TeamsElement[] = [labelBlock(`${title} (${formatNumber(items.length)})`), factSet(shown.map(fact))];
  if (shown.length < items.length) out.push(textBlock(`… and ${formatNumber(items.length - shown.length)} more in the e-mail digest`));
  return out;
}

/** Renders the digest as a Teams card. */
export function renderDigestTeams(model: DigestModel, options: DigestTeamsOptions = {}): TeamsMessage {
  const maxItems = options.maxItems ?? 8;
  const { counts, totals } = model;
  const matched = totals.matchedPct === undefined ? '—' : formatPercent(Number(totals.matchedPct.toFixed(2)));
  const body: TeamsElement[] = [
    titleBlock(`gem-watch digest · ${periodLength(model)}`),
    contextBlock(periodLabel(model)),
    factSet([
      { label: '✅ Finished', value: formatNumber(counts.finished) },
      { label: '❌ Failed', value: formatNumber(counts.failed) },
      { label: '🚫 Cancelled', value: formatNumber(counts.cancelled) },
      { label: '🔄 Running now', value: formatNumber(counts.running) },
      { label: '⏳ Queued now', value: formatNumber(counts.queued) },
      { label: 'Km processed', value: `${formatKm(totals.kmProcessed)} (${kmChange(model)})` },
      { label: 'Roads processed', value: formatNumber(totals.roadsProcessed) },
      { label: 'Roads matched', value: `${matched} km-weighted${matchedChange(model) ? ` (${matchedChange(model)})` : ''}` },
    ]),
  ];
  if (model.isEmpty) body.push(textBlock('Nothing happened in this period: no job started, finished or failed, and none is running or waiting.'));
  const ended = [...model.failed, ...model.cancelled].sort((a, b) => a.endedAt - b.endedAt);
  body.push(
    ...listSection('Failed and cancelled', ended, maxItems, (job) => ({
      label: `${job.status === 'failed' ? '❌' : '🚫'} ${jobName(job)}`,
      value: job.message === undefined ? job.status : oneLine(job.message, MESSAGE_CHARS),
    })),
    ...listSection('Finished', model.finished, maxItems, (job) => ({
      label: `✅ ${jobName(job)}`,
      value: [`${formatPercent(job.matchedPct)} matched`, formatKm(job.kmProcessed), `${formatNumber(job.roadsProcessed)} roads`, formatDuration(job.durationSec)].join(' · '),
    })),
    ...listSection('Running', model.running, maxItems, (job) => ({
      label: `🔄 ${jobName(job)}`,
      value: [formatPercent(job.progress), `ETA ${etaRelative(job.expectedEndAt, model.generatedAt)}`, ...(stallNote(job, model.generatedAt) ? [`⚠️ ${stallNote(job, model.generatedAt)}`] : [])].join(' · '),
    })),
    ...listSection('Queued', model.queued, maxItems, (job) => ({
      label: `⏳ ${jobName(job)}`,
      value: `waiting ${formatDuration((model.generatedAt - job.queuedSince) / 1000)}`,
    })),
  );
  return teamsMessage(`gem-watch digest (${periodLength(model)}): ${summaryLine(model)}`, body);
}
