import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../../src/notify/channels/slack/slack-message.js';

/** Every text Slack reads in these blocks: headers, section texts and fields, context elements. */
export function slackBlockTexts(blocks: readonly KnownBlock[]): string[] {
  const out: string[] = [];
  for (const block of blocks) {
    if (block.type === 'header') out.push(block.text.text);
    if (block.type === 'section') {
      if (block.text) out.push(block.text.text);
      for (const field of block.fields ?? []) out.push(field.text);
    }
    if (block.type === 'context') out.push(...block.elements.map((element) => ('text' in element ? element.text : '')));
  }
  return out;
}

/** Every text Slack reads in a message: the fallback first, then the blocks'. */
export function slackTexts(message: SlackMessage): string[] {
  return [message.text, ...slackBlockTexts(message.blocks)];
}
