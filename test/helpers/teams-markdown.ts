import MarkdownIt from 'markdown-it';

/**
 * What a card's markdown becomes, as the adaptivecards renderer makes it with markdown-it, with
 * linkify on as Teams links bare URLs. Text that is inert renders as paragraphs and nothing else.
 */
const markdown = new MarkdownIt({ linkify: true });

/** The HTML tags a card text makes besides paragraphs: empty when the text is inert. */
export function markupIn(text: string): string[] {
  const html = markdown.render(text);
  return [...html.matchAll(/<\/?([a-z0-9]+)[^>]*>/gi)].map((match) => match[1]!.toLowerCase()).filter((tag) => tag !== 'p');
}
