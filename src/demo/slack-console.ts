/**
 * A Slack webhook payload as readable console text, for the demo: the header, the fields in two
 * columns, sections and the context line, roughly as Slack lays them out. Pure.
 *
 * The payload is what gem-watch posted, so its text is already mrkdwn-escaped; entities are decoded
 * for display and control characters (terminal escapes) are removed, whatever the sender did.
 */

export interface ConsoleStyle {
  /** ANSI bold and dim; off for files and pipes. */
  color: boolean;
  /** Width of a field column. Default 38. */
  columnWidth?: number;
}

const EMOJI: Record<string, string> = {
  ':white_check_mark:': '✅',
  ':x:': '❌',
  ':no_entry_sign:': '🚫',
  ':hourglass_flowing_sand:': '⏳',
  ':arrows_counterclockwise:': '🔄',
  ':grey_question:': '❔',
  ':rotating_light:': '🚨',
  ':large_green_circle:': '🟢',
  ':warning:': '⚠️',
  ':bar_chart:': '📊',
  ':calendar:': '📅',
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

interface TextObject {
  type?: string;
  text?: string;
}

/** Decodes Slack's three entities and emoji codes, and drops control characters. */
export function plainFromMrkdwn(text: string): string {
  return text
    .replace(CONTROL, '')
    .replace(/:[a-z0-9_+-]+:/g, (code) => EMOJI[code] ?? code)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function styler(style: ConsoleStyle) {
  const wrap = (open: string, close: string) => (text: string) => (style.color ? `\u001b[${open}m${text}\u001b[${close}m` : text);
  return { bold: wrap('1', '22'), dim: wrap('2', '22') };
}

/** `*bold*` spans as terminal bold (or left plain). */
function inline(text: string, style: ConsoleStyle): string {
  const { bold } = styler(style);
  return plainFromMrkdwn(text).replace(/\*([^*\n]+)\*/g, (_whole, inner: string) => bold(inner));
}

function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return [...text.replace(/\u001b\[[0-9;]*m/g, '')].length;
}

function textOf(value: unknown): string | undefined {
  const object = value as TextObject | undefined;
  return object && typeof object.text === 'string' ? object.text : undefined;
}

/** Fields "*Label*\nvalue" as "Label: value", laid out two per line. */
function fieldLines(fields: unknown[], style: ConsoleStyle): string[] {
  const width = style.columnWidth ?? 38;
  const { dim } = styler(style);
  const cells = fields.map((field) => {
    const raw = textOf(field) ?? '';
    const match = /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(raw);
    return match ? `${dim(`${plainFromMrkdwn(match[1]!)}:`)} ${plainFromMrkdwn(match[2]!).replace(/\n/g, ' ')}` : inline(raw, style);
  });
  const lines: string[] = [];
  for (let i = 0; i < cells.length; i += 2) {
    const left = cells[i]!;
    const right = cells[i + 1];
    if (right === undefined || visibleLength(left) > width) {
      lines.push(`  ${left}`);
      if (right !== undefined) lines.push(`  ${right}`);
    } else {
      lines.push(`  ${left}${' '.repeat(width - visibleLength(left))}  ${right}`);
    }
  }
  return lines;
}

/** The whole message as lines of text (no trailing newline). */
export function formatSlackForConsole(payload: unknown, style: ConsoleStyle): string {
  const { bold, dim } = styler(style);
  const message = (payload ?? {}) as { text?: unknown; blocks?: unknown };
  const blocks = Array.isArray(message.blocks) ? (message.blocks as Array<Record<string, unknown>>) : [];
  if (blocks.length === 0) return typeof message.text === 'string' ? inline(message.text, style) : '(empty message)';
  const lines: string[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'header':
        lines.push(bold(plainFromMrkdwn(textOf(block.text) ?? '')));
        break;
      case 'section': {
        const text = textOf(block.text);
        if (text !== undefined) lines.push(...inline(text, style).split('\n').map((line) => `  ${line}`));
        if (Array.isArray(block.fields)) lines.push(...fieldLines(block.fields, style));
        break;
      }
      case 'context': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        lines.push(dim(`  ${elements.map((element) => plainFromMrkdwn(textOf(element) ?? '')).join('  ')}`));
        break;
      }
      case 'divider':
        lines.push(dim(`  ${'─'.repeat(40)}`));
        break;
      default:
        break;
    }
  }
  return lines.join('\n');
}

/** A Teams card's title as plain text for the console: its first TextBlock, markdown escapes undone. */
export function teamsCardTitle(card: Record<string, unknown> | undefined): string {
  const body = Array.isArray(card?.body) ? (card.body as Array<{ type?: unknown; text?: unknown }>) : [];
  const title = body.find((element) => element.type === 'TextBlock' && typeof element.text === 'string');
  const text = typeof title?.text === 'string' ? title.text : '(no title)';
  // eslint-disable-next-line no-control-regex
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}
