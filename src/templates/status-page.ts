import { createHash } from 'node:crypto';
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
   * Where the notifications come from: `log` is the notification log, `queue` the notify
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
  return `<span class="when">${escapeHtml(formatInstant(at, timeZone))}</span>`;
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
    scroller(
      'Tracked jobs',
      [
        '<table id="jobs"><thead><tr><th>Job id</th><th>Type</th><th>Status</th><th>Input file</th><th>Progress</th><th>ETA</th><th>Last change</th></tr></thead><tbody>',
        ...shown.map((job) => jobRow(job, model)),
        '</tbody></table>',
      ].join('\n'),
    ),
  ].join('\n');
}

/**
 * The route, and the target (webhook or recipient list) only when it says something more: the
 * default route's target is also called `default`, which read as "default default".
 */
function routeCell(row: StatusPageNotification): string {
  if (row.target === '' || row.target === row.route) return text(row.route, 60);
  return `${text(row.route, 60)} <span class="muted">→ ${text(row.target, 60)}</span>`;
}

/**
 * A table in a region that scrolls sideways on a narrow screen, so the columns keep their width
 * instead of squeezing a file name to a letter per line. Focusable, so a keyboard can scroll it.
 */
function scroller(label: string, table: string): string {
  return `<div class="scroll" role="region" aria-label="${escapeHtml(label)}" tabindex="0">${table}</div>`;
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
      `<td>${routeCell(row)}</td>`,
      `<td>${text(row.subject, 200)}</td>`,
      `<td><span class="status ${css}">${text(row.outcome, 40)}</span>${row.attempts ? ` <span class="muted">(${row.attempts} attempt${row.attempts === 1 ? '' : 's'})</span>` : ''}</td>`,
      `<td class="small">${text(row.detail, 300)}</td>`,
      '</tr>',
    ].join('');
  });
  return [
    `<p class="muted">${escapeHtml(note)}</p>`,
    scroller(
      'Recent notifications',
      [
        '<table id="notifications"><thead><tr><th>When</th><th>Channel</th><th>Route</th><th>About</th><th>Outcome</th><th>Detail</th></tr></thead><tbody>',
        ...rows,
        '</tbody></table>',
      ].join('\n'),
    ),
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
  return scroller(
    'Queues',
    `<table id="queues"><thead><tr><th>Queue</th><th>Waiting</th><th>Active</th><th>Delayed</th><th>Failed</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  );
}

/*
 * Colours are variables so the dark scheme only swaps them. Every text colour is at least 4.5:1 on
 * its background in both schemes (axe-core checks it in test/status-page.e2e.test.ts): the muted
 * grey is #57606a (6.0:1 on the page's #f6f7f9; #6e7781 was 4.24:1).
 */
const STYLE = `
:root{color-scheme:light dark;--bg:#f6f7f9;--panel:#fff;--ink:#1d2330;--muted:#57606a;--line:#e1e4e8;--rule:#eef0f3;--head:#1d2330;--head-ink:#fff;--link:#9ecbff;--track:#eaeef2;--fill:#0969da;
--ok-bg:#dafbe1;--ok:#116329;--bad-bg:#ffebe9;--bad:#a40e26;--warn-bg:#fff8c5;--warn:#6f4400;--run-bg:#ddf4ff;--run:#0550ae;--queued-bg:#eaeef2;--queued:#424a53;--err-line:#ffcecb}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--panel:#161b22;--ink:#e6edf3;--muted:#9da7b3;--line:#30363d;--rule:#21262d;--head:#010409;--head-ink:#e6edf3;--link:#79c0ff;--track:#30363d;--fill:#4493f8;
--ok-bg:#12361f;--ok:#7ee2a8;--bad-bg:#3c1618;--bad:#ffa198;--warn-bg:#3a2d00;--warn:#e3b341;--run-bg:#0c2d4f;--run:#79c0ff;--queued-bg:#30363d;--queued:#d1d7de;--err-line:#8e1519}}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:var(--ink);background:var(--bg)}
header{background:var(--head);color:var(--head-ink);padding:12px 24px;display:flex;gap:8px 24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header a{color:var(--link)}
.refresh{display:flex;gap:8px;align-items:baseline;margin-left:auto;font-size:13px}
.refresh button{font:inherit;color:var(--head-ink);background:transparent;border:1px solid var(--link);border-radius:4px;padding:1px 8px;cursor:pointer}
.refresh button[aria-pressed="true"]{background:var(--link);color:var(--head)}
main{padding:8px 24px 32px}section{background:var(--panel);border:1px solid var(--line);border-radius:6px;padding:4px 16px 12px;margin:16px 0}
h2{font-size:15px;margin:12px 0 8px}table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--rule);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em;white-space:nowrap}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}.scroll:focus-visible{outline:2px solid var(--fill);outline-offset:2px}
#jobs{min-width:900px}#notifications{min-width:760px}#queues .mono{white-space:nowrap}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:13px}.file{min-width:14em;max-width:28em;overflow-wrap:anywhere}.when{white-space:nowrap}
.muted{color:var(--muted)}.small{font-size:12px}.status{display:inline-block;padding:0 7px;border-radius:10px;font-size:12px;font-weight:600;background:var(--queued-bg);white-space:nowrap}
.ok{background:var(--ok-bg);color:var(--ok)}.bad{background:var(--bad-bg);color:var(--bad)}.warn{background:var(--warn-bg);color:var(--warn)}.running{background:var(--run-bg);color:var(--run)}.queued{background:var(--queued-bg);color:var(--queued)}
.bar{display:inline-block;width:70px;height:7px;background:var(--track);border-radius:4px;vertical-align:middle;overflow:hidden}.bar span{display:block;height:100%;background:var(--fill)}
.errors{background:var(--bad-bg);border-color:var(--err-line)}.checks{list-style:none;padding:0;margin:0}.checks li{margin:3px 0}
@media (max-width:600px){header{padding:10px 12px}main{padding:4px 12px 24px}section{padding:4px 10px 10px}.refresh{margin-left:0}}
`;

/**
 * The page's self-refresh, instead of `<meta http-equiv="refresh">`, which reloads under a reader's
 * eyes with no way to stop it (WCAG 2.2.2; axe-core's `meta-refresh`). Every `data-refresh` seconds
 * it fetches the page again and swaps in the new `<main>` and time, leaving focus and the scroll
 * position alone, and says so in a polite live region; the Pause button (a toggle, `aria-pressed`)
 * stops it. A hidden tab is not refreshed. Without script the page is simply static.
 */
const REFRESH_SCRIPT = `document.addEventListener('DOMContentLoaded', () => {
  const seconds = Number(document.body.dataset.refresh);
  const button = document.getElementById('refresh-pause');
  const status = document.getElementById('refresh-status');
  if (!(seconds > 0) || !button || !status) return;
  let paused = false;
  let timer;
  const schedule = () => {
    clearTimeout(timer);
    if (!paused) timer = setTimeout(update, seconds * 1000);
  };
  const update = async () => {
    if (document.hidden) return schedule();
    try {
      const answer = await fetch(location.href, { credentials: 'same-origin', cache: 'no-store' });
      if (!answer.ok) throw new Error('HTTP ' + answer.status);
      const next = new DOMParser().parseFromString(await answer.text(), 'text/html');
      if (paused) return;
      for (const id of ['now', 'content']) {
        const fresh = next.getElementById(id);
        const old = document.getElementById(id);
        if (fresh && old) old.replaceWith(document.importNode(fresh, true));
      }
      status.textContent = 'Updated ' + (next.getElementById('now')?.textContent ?? '') + '.';
    } catch (error) {
      status.textContent = 'Update failed (' + (error instanceof Error ? error.message : String(error)) + '); trying again in ' + seconds + ' s.';
    }
    schedule();
  };
  button.hidden = false;
  status.textContent = 'Updates every ' + seconds + ' s.';
  button.addEventListener('click', () => {
    paused = !paused;
    button.setAttribute('aria-pressed', String(paused));
    status.textContent = paused ? 'Updates paused.' : 'Updates resumed, every ' + seconds + ' s.';
    schedule();
  });
  schedule();
});`;

/** A small badge, inline so the page fetches nothing but itself. */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='16' rx='3' fill='%231d2330'/%3E%3Cpath d='M4 8.5l2.5 2.5L12 5' stroke='%234ac26b' stroke-width='2' fill='none'/%3E%3C/svg%3E";

/**
 * The Content-Security-Policy the status page is served with: its own inline style, its one script
 * (by hash, so a script that escaped the escaping still could not run), fetches of itself for the
 * refresh, and the inline favicon; nothing else.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src 'sha256-${createHash('sha256').update(REFRESH_SCRIPT).digest('base64')}'`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The whole page, as one HTML document. */
export function renderStatusPage(model: StatusPageModel): string {
  const refresh = Math.max(0, Math.round(model.refreshSec ?? 15));
  const errors =
    model.errors.length === 0
      ? ''
      : `<section class="errors"><h2>Problems</h2><ul>${model.errors.map((error) => `<li>${text(error, 500)}</li>`).join('')}</ul></section>`;
  const control =
    refresh > 0
      ? `<div class="refresh"><button type="button" id="refresh-pause" aria-pressed="false" hidden>Pause updates</button><span id="refresh-status" role="status">Shown as of this time; reload for the latest.</span></div>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>gem-watch status</title>
<link rel="icon" href="${FAVICON}">
<style>${STYLE}</style>
${refresh > 0 ? `<script>${REFRESH_SCRIPT}</script>` : ''}
</head>
<body data-refresh="${refresh}">
<header><h1>gem-watch</h1><span id="now">${when(model.now, model.timeZone)}</span>
<nav aria-label="Other views"><a href="queues">queues</a> · <a href="metrics">metrics</a> · <a href="readyz">readyz</a></nav>${control}</header>
<main id="content">
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
