import type { SlackSinkPayload } from '../src/simulator/slack-sink.js';

/**
 * A Slack message laid out roughly as Slack shows it, as HTML for the README's pictures
 * (scripts/render-doc-images.ts, scripts/render-slack-app-images.ts).
 */

export interface SlackMockOptions {
  /** Channel name shown above the message. Default gem-watch-alerts. */
  channel?: string;
  /** Replies in the message's thread, shown under it as Slack's thread view does. */
  replies?: SlackSinkPayload[];
  /** "(edited)" after the time, as Slack marks an edited message. */
  edited?: boolean;
}

/** Slack's emoji as small coloured badges: the machine has no emoji font. */
const BADGES: Record<string, string> = {
  ':hourglass_flowing_sand:': '<span class="badge" style="background:#ecb22e">⧗</span>',
  ':arrows_counterclockwise:': '<span class="badge" style="background:#1264a3">↻</span>',
  ':hourglass:': '<span class="badge" style="background:#ecb22e">⧗</span>',
  ':white_check_mark:': '<span class="badge" style="background:#2eb67d">✓</span>',
  ':x:': '<span class="badge" style="background:#e01e5a">✗</span>',
  ':no_entry_sign:': '<span class="badge" style="background:#616061">⊘</span>',
  ':rotating_light:': '<span class="badge" style="background:#e01e5a">!</span>',
  ':large_green_circle:': '<span class="badge" style="background:#2eb67d">●</span>',
};

/**
 * A Slack message's blocks as HTML. Its text is already mrkdwn-escaped (&amp; &lt; &gt;), which is
 * valid HTML as it stands; *bold* and emoji codes are the only mrkdwn the renderer emits.
 */
export function slackMock(payload: SlackSinkPayload, options: SlackMockOptions = {}): string {
  const mrkdwn = (text: string) =>
    text
      .replace(/"/g, '&quot;')
      .replace(/:[a-z0-9_+-]+:/g, (code) => BADGES[code] ?? code)
      .replace(/\*([^*\n]+)\*/g, '<b>$1</b>')
      .replace(/`([^`\n]+)`/g, '<code>$1</code>')
      .replace(/^&gt;(.*)$/gm, '<span class="quote">$1</span>')
      .replace(/\n/g, '<br>');
  const blocksOf = (message: SlackSinkPayload) =>
    (message.blocks ?? []).map((block) => {
      const text = (block.text as { text?: string } | undefined)?.text;
      switch (block.type) {
        case 'header':
          return `<div class="header">${mrkdwn(text ?? '')}</div>`;
        case 'section': {
          const fields = (block.fields as Array<{ text: string }> | undefined) ?? [];
          return `<div class="section">${text ? `<div>${mrkdwn(text)}</div>` : ''}${
            fields.length ? `<div class="fields">${fields.map((field) => `<div>${mrkdwn(field.text)}</div>`).join('')}</div>` : ''
          }</div>`;
        }
        case 'context':
          return `<div class="context">${((block.elements as Array<{ text: string }>) ?? []).map((element) => mrkdwn(element.text)).join(' ')}</div>`;
        default:
          return '';
      }
    });
  const author = (time: string, edited: boolean) =>
    `<div><span class="name">gem-watch</span><span class="app">APP</span><span class="time">${time}</span>${edited ? '<span class="time"> (edited)</span>' : ''}</div>`;
  const replies = options.replies ?? [];
  const thread = replies.length
    ? `<div class="thread"><div class="count">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>${replies
        .map((reply) => `<div class="msg reply"><div class="avatar small">GW</div><div>${author('08:15', false)}${blocksOf(reply).join('')}</div></div>`)
        .join('')}</div>`
    : '';
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#fff;font:15px/1.46 "Liberation Sans",Arial,sans-serif;color:#1d1c1d}
.channel{padding:10px 20px;border-bottom:1px solid #e8e8e8;font-weight:700}.msg{display:flex;gap:8px;padding:12px 20px 16px}
.avatar{width:36px;height:36px;border-radius:6px;background:#1d2330;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center;font-size:13px;flex:none}
.avatar.small{width:24px;height:24px;font-size:10px}
.name{font-weight:900}.app{background:#e8e8e8;color:#616061;font-size:10px;font-weight:700;padding:1px 3px;border-radius:2px;margin:0 4px}.time{color:#616061;font-size:12px}
.header{font-size:18px;font-weight:900;margin:6px 0 4px}.section{margin:6px 0}.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;max-width:560px}
.context{color:#616061;font-size:12px;margin-top:6px}.badge{display:inline-block;width:18px;height:18px;border-radius:4px;color:#fff;text-align:center;font-size:13px;line-height:18px;margin-right:4px;vertical-align:1px}
code{font-family:"Liberation Mono",monospace;font-size:13px;background:#f6f6f6;border:1px solid #e8e8e8;border-radius:3px;padding:0 3px}
.quote{border-left:4px solid #ddd;padding-left:8px;color:#454245}
.thread{margin:0 20px 16px 64px;border-left:2px solid #e8e8e8}.count{color:#1264a3;font-weight:700;font-size:13px;padding:2px 12px}.reply{padding:6px 12px}
</style></head><body><div class="channel"># ${options.channel ?? 'gem-watch-alerts'}</div><div class="msg"><div class="avatar">GW</div><div>
${author('08:14', options.edited ?? false)}${blocksOf(payload).join('')}</div></div>${thread}</body></html>`;
}
