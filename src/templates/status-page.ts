import { escapeHtml, truncate } from './escape.js';
import { formatInstant } from './format.js';

/**
 * The read-only status page served at `/`: readiness, queue depths, tracked jobs and recent
 * notifications. Pure: the HTTP server gathers the data and passes it in with `now`. Every string
 * that came from GEM or from a delivery is escaped here, so a hostile file name is shown, never run.
 */

/** One tracked job as the page shows it. Strings are raw API text. */
export interface StatusPageJob {
  id: string;
  jobType: string;
  /** Canonical status (queued, running, ...). */
  status: string;
  /** The word GEM sent, shown for `unknown`. */
  rawStatus?: string;
  /** Percent 0–100. */
  progress?: number;
  inputFile?: string;
  /** Expected end, epoch ms (running jobs with a usable pace only). */
  eta?: number;
  /** Epoch ms of the last status change gem-watch saw. */
  lastChangeAt: number;
  /** Epoch ms the job went missing from the API. */
  vanishedAt?: number;
  /** GEM's failure message. */
  message?: string;
}

/** One recent delivery (or delivery attempt). */
export interface StatusPageNotification {
  /** Epoch ms of the outcome. */
  at?: number;
  channel: string;
  route: string;
  target: string;
  /** What it was about: a job id and status, or an operator alert. */
  subject: string;
  /** delivered, failed, retrying, ... */
  outcome: string;
  /** A receipt or a scrubbed error text. */
  detail?: string;
  /** Attempts made so far. */
  attempts?: number;
}

export interface StatusPageCheck {
  name: string;
  ok: boolean;
  detail: string;
  /** Worth a look but not a failure (readiness stays ok): shown as a warning. */
  warning?: boolean;
}

export interface StatusPageQueue {
  name: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
}

export interface StatusPageModel {
  /** Epoch ms the page was rendered. */
  now: number;
  /** IANA time zone for every instant shown. */
  timeZone: string;
  ready: boolean;
  checks: StatusPageCheck[];
  queues: StatusPageQueue[];
  jobs: StatusPageJob[];
  /**
   * Where the notifications come from: `log` is the notification log (issue 8), `queue` the notify
   * queue's recently completed and failed tasks (what BullMQ still keeps).
   */
  notificationSource: 'log' | 'queue';
  notifications: StatusPageNotification[];
  /** Problems gathering the data (Redis away, ...), shown at the top. */
  errors: string[];
  /** Ended jobs shown at most; the rest are counted. Default 100. */
  maxEnded?: number;
  /** Ended jobs in all, when `jobs` holds only the most recent of them; default those in `jobs`. */
  endedTotal?: number;
  /** Reload the page every this many seconds; 0 = never. Default 15. */
  refreshSec?: number;
}

const ACTIVE = new Set(['queued', 'running', 'unknown']);

const STATUS_CLASS: Record<string, string> = {
  queued: 'queued',
  running: 'running',
  finished: 'ok',
  failed: 'bad',
  cancelled: 'muted',
  unknown: 'warn',
};

function text(value: string | undefined, max = 200): string {
  return value === undefined || value === '' ? '—' : escapeHtml(truncate(value, max));
}

function when(at: number | undefined, timeZone: string): string {
  return escapeHtml(formatInstant(at, timeZone));
}

/** "3 min ago", "in 2 h"; for quick reading next to the absolute time. */
export function relative(at: number, now: number): string {
  const seconds = Math.round((at - now) / 1000);
  const abs = Math.abs(seconds);
  const amount =
    abs < 60 ? `${abs} s` : abs < 3_600 ? `${Math.round(abs / 60)} min` : abs < 172_800 ? `${Math.round(abs / 3_600)} h` : `${Math.round(abs / 86_400)} d`;
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

function progressCell(progress: number | undefined): string {
  if (progress === undefined || !Number.isFinite(progress)) return '—';
  const pct = Math.min(100, Math.max(0, progress));
  return `<span class="bar"><span style="width:${pct.toFixed(0)}%"></span></span> ${pct.toFixed(0)}%`;
}

function statusCell(job: StatusPageJob): string {
  const css = STATUS_CLASS[job.status] ?? 'warn';
  const word = job.status === 'unknown' && job.rawStatus ? `unknown: ${truncate(job.rawStatus, 40)}` : job.status;
  const gone = job.vanishedAt === undefined ? '' : ' <span class="muted">(gone from the API)</span>';
  return `<span class="status ${css}">${escapeHtml(word)}</span>${gone}`;
}

function jobRow(job: StatusPageJob, model: StatusPageModel): string {
  const eta = job.eta === undefined ? '—' : `${when(job.eta, model.timeZone)} <span class="muted">(${escapeHtml(relative(job.eta, model.now))})</span>`;
  const message = job.message && job.status === 'failed' ? `<div class="muted small">${text(job.message, 300)}</div>` : '';
  return [
    '<tr>',
    `<td class="mono">${text(job.id, 80)}</td>`,
    `<td>${text(job.jobType, 40)}</td>`,
    `<td>${statusCell(job)}</td>`,
    `<td class="file">${text(job.inputFile, 200)}${message}</td>`,
    `<td>${progressCell(job.progress)}</td>`,
    `<td>${eta}</td>`,
    `<td>${when(job.lastChangeAt, model.timeZone)} <span class="muted">(${escapeHtml(relative(job.lastChangeAt, model.now))})</span></td>`,
    '</tr>',
  ].join('');
}

function jobsTable(model: StatusPageModel): string {
  const sorted = [...model.jobs].sort(
    (a, b) => Number(!ACTIVE.has(a.status)) - Number(!ACTIVE.has(b.status)) || b.lastChangeAt - a.lastChangeAt,
  );
  const active = sorted.filter((job) => ACTIVE.has(job.status));
  const ended = sorted.filter((job) => !ACTIVE.has(job.status));
  const maxEnded = model.maxEnded ?? 100;
  const shown = [...active, ...ended.slice(0, maxEnded)];
  const endedTotal = Math.max(model.endedTotal ?? 0, ended.length);
  const hidden = endedTotal - Math.min(ended.length, maxEnded);
  if (shown.length === 0 && endedTotal === 0) return '<p class="muted">No tracked jobs yet. Jobs appear after the first poll that sees them.</p>';
  return [
    `<p>${active.length} active, ${endedTotal} ended${hidden > 0 ? ` (the ${hidden} oldest not shown)` : ''}.</p>`,
    '<table id="jobs"><thead><tr><th>Job id</th><th>Type</th><th>Status</th><th>Input file</th><th>Progress</th><th>ETA</th><th>Last change</th></tr></thead><tbody>',
    ...shown.map((job) => jobRow(job, model)),
    '</tbody></table>',
  ].join('\n');
}

function notificationsTable(model: StatusPageModel): string {
  const note =
    model.notificationSource === 'log'
      ? 'From the notification log.'
      : 'From the notify queue: the deliveries BullMQ still keeps (completed and failed tasks, newest first).';
  if (model.notifications.length === 0) return `<p class="muted">${escapeHtml(note)} None yet.</p>`;
  const rows = model.notifications.map((row) => {
    const css = /deliver|sent|complete/.test(row.outcome) ? 'ok' : /fail/.test(row.outcome) ? 'bad' : 'warn';
    return [
      '<tr>',
      `<td>${when(row.at, model.timeZone)}</td>`,
      `<td>${text(row.channel, 40)}</td>`,
      `<td>${text(row.route, 60)} <span class="muted">${text(row.target, 60)}</span></td>`,
      `<td>${text(row.subject, 200)}</td>`,
      `<td><span class="status ${css}">${text(row.outcome, 40)}</span>${row.attempts ? ` <span class="muted">(${row.attempts} attempt${row.attempts === 1 ? '' : 's'})</span>` : ''}</td>`,
      `<td class="small">${text(row.detail, 300)}</td>`,
      '</tr>',
    ].join('');
  });
  return [
    `<p class="muted">${escapeHtml(note)}</p>`,
    '<table id="notifications"><thead><tr><th>When</th><th>Channel</th><th>Route</th><th>About</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table>',
  ].join('\n');
}

function healthSection(model: StatusPageModel): string {
  const items = model.checks.map((check) => {
    const [css, word] = !check.ok ? ['bad', 'not ok'] : check.warning ? ['warn', 'warning'] : ['ok', 'ok'];
    return `<li><span class="status ${css}">${word}</span> <b>${escapeHtml(check.name)}</b>: ${text(check.detail, 400)}</li>`;
  });
  return `<p><span class="status ${model.ready ? 'ok' : 'bad'}">${model.ready ? 'ready' : 'not ready'}</span></p><ul class="checks">${items.join('')}</ul>`;
}

function queuesSection(model: StatusPageModel): string {
  if (model.queues.length === 0) return '<p class="muted">Queue depths unavailable.</p>';
  const rows = model.queues.map(
    (queue) =>
      `<tr><td class="mono">${escapeHtml(queue.name)}</td><td>${queue.waiting}</td><td>${queue.active}</td><td>${queue.delayed}</td><td>${queue.failed}</td></tr>`,
  );
  return `<table id="queues"><thead><tr><th>Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header a{color:#9ecbff}
main{padding:8px 24px 32px}section{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:4px 16px 12px;margin:16px 0}
h2{font-size:15px;margin:12px 0 8px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-weight:600;color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}.file{word-break:break-all;max-width:360px}
.muted{color:#6e7781}.small{font-size:12px}.status{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2}
.ok{background:#dafbe1;color:#116329}.bad{background:#ffebe9;color:#a40e26}.warn{background:#fff8c5;color:#7d4e00}.running{background:#ddf4ff;color:#0550ae}.queued{background:#eaeef2;color:#424a53}
.bar{display:inline-block;width:70px;height:7px;background:#eaeef2;border-radius:4px;vertical-align:middle;overflow:hidden}.bar span{display:block;height:100%;background:#218bff}
.errors{background:#ffebe9;border-color:#ffcecb}.checks{list-style:none;padding:0;margin:0}.checks li{margin:3px 0}
`;

/** The whole page, as one HTML document. */
export function renderStatusPage(model: StatusPageModel): string {
  const refresh = model.refreshSec ?? 15;
  const errors =
    model.errors.length === 0
      ? ''
      : `<section class="errors"><h2>Problems</h2><ul>${model.errors.map((error) => `<li>${text(error, 500)}</li>`).join('')}</ul></section>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${refresh > 0 ? `<meta http-equiv="refresh" content="${Math.round(refresh)}">` : ''}
<title>gem-watch status</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>gem-watch</h1><span>${when(model.now, model.timeZone)}</span>
<nav><a href="queues">queues</a> · <a href="metrics">metrics</a> · <a href="readyz">readyz</a></nav></header>
<main>
${errors}
<section id="health"><h2>Health</h2>${healthSection(model)}</section>
<section id="tracked"><h2>Tracked jobs</h2>
${jobsTable(model)}
</section>
<section id="recent-notifications"><h2>Recent notifications</h2>
${notificationsTable(model)}
</section>
<section id="queue-depths"><h2>Queues</h2>${queuesSection(model)}</section>
</main>
</body>
</html>
`;
}
