import type { SimJob } from '../../../src/simulator/gem-simulator.js';
import type { Random } from '../../../src/simulator/random.js';

/**
 * Hostile text, as an API could send it in any string field: Slack mentions and links, HTML and
 * script, mrkdwn, header injection, control characters and bidi overrides, entities and template
 * syntax, astral characters, and sheer size.
 */
export const HOSTILE_TEXTS: readonly string[] = [
  '<!channel> <!here> <!everyone> <@U123ABC> <#C0123|general> <https://evil.example/x|click me>',
  '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>',
  '*bold* _it_ ~strike~ `code` ```block``` > quote :rotating_light: @here',
  'line1\r\nBcc: victim@example.com\r\nX-Injected: yes\r\n\r\nbody',
  '\u0000\u0007\u001b[31mred\u001b[0m\u0085\u2028\u2029\u202eevil\u202c\ufeff',
  '&amp; &lt; &#x3C; &#60; %0d%0a ${jndi:ldap://x} {{7*7}} <%= 7*7 %>',
  `${'😀'.repeat(40)} ﷽ Z̸̡̢͔͎a̷l̶g̵o̴`,
  'x'.repeat(20_000),
];

/** Markup that must never reach a Slack payload or an email's HTML as markup. */
export const FORBIDDEN_IN_SLACK = ['<!channel>', '<!here>', '<!everyone>', '<@U123ABC>', '<#C0123', '<https://evil'];

/** Tags the email template writes itself; any other tag in a mail's HTML came from data. */
const TEMPLATE_TAGS = new Set(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'h2', 'h3', 'table', 'tr', 'th', 'td', 'p', 'pre']);

/**
 * What is live in an email's HTML that the template did not put there: a tag outside the
 * template's own, an event-handler attribute, a javascript: URL inside a tag. Escaped text such as
 * `&lt;img onerror=…&gt;` is inert and not reported.
 */
export function htmlProblems(html: string): string[] {
  const problems: string[] = [];
  for (const match of html.matchAll(/<\/?([!a-z][a-z0-9]*)([^>]*)>/gi)) {
    const name = match[1]!.toLowerCase();
    if (!TEMPLATE_TAGS.has(name)) problems.push(`tag <${name}> from data`);
    if (/\son[a-z]+\s*=/i.test(match[2]!)) problems.push(`event handler in <${name}>`);
    if (/javascript:/i.test(match[2]!)) problems.push(`javascript: URL in <${name}>`);
  }
  return problems;
}

/** Hostile values for every string field of a simulated job, and fields of the wrong type. */
export function hostileFields(random: Random): Partial<SimJob> {
  const text = () => random.pick(HOSTILE_TEXTS);
  return {
    inputFile: `${text()}.parquet`,
    storageId: text(),
    outputFile: text(),
    overtureRelease: text(),
    orbisVersion: text(),
    message: random.next() < 0.3 ? 'M'.repeat(1_000_000) : text(),
    extra: random.pick<Record<string, unknown>>([
      // Wrong types where strings and numbers belong, and fields nobody documented.
      { createdAt: 12_345, modifiedAt: { nested: true }, progress: 'lots', matchingType: 42, storageId: ['a', 'b'] },
      { inputFileName: null, outputFileName: 7, overtureRelease: false, unknownField: { deep: [1, '<!channel>', null] } },
      { job_type: '<!channel>', jobType: { x: 1 }, requested_at: 'yesterday', statistics: 'n/a' },
      { statistics: { roads_matched: '<b>99%</b>', kms_processed: [1, 2], num_roads_processed: 'NaN', execution_time_sec: 1e308 } },
      { error: { message: text(), code: 500 }, details: [text()] },
      {},
    ]),
  };
}

/** Job ids that are hostile yet still name one job each. */
export function hostileId(index: number, random: Random): string | undefined {
  if (index % 4 !== 1) return undefined;
  return random.pick(['<b>job</b>&amp;', 'job with spaces & <tags>', '*star*_under_', 'ünïcødé-🚀']) + `-${index}`;
}

/**
 * Jobs the daemon must survive but never announce: statuses it does not know, no id, no status,
 * a status of the wrong type.
 */
export function brokenJobs(): Array<Partial<SimJob> & { id: string }> {
  return [
    { id: 'broken-unknown-1', jobType: 'ROAD_MATCHING', status: 'running', rawStatusOverride: 'PAUSED <!channel>' },
    { id: 'broken-unknown-2', jobType: 'LANE_LEVEL_MATCHING', status: 'running', rawStatusOverride: 'SUCCESS\u0000' },
    { id: 'broken-empty-status', jobType: 'ROAD_MATCHING', status: 'running', rawStatusOverride: '' },
    { id: 'broken-no-id', jobType: 'ROAD_MATCHING', status: 'finished', extra: { jobRunId: null, job_id: null } },
    { id: 'broken-status-type', jobType: 'ROAD_MATCHING', status: 'failed', extra: { status: 7 } },
    { id: 'broken-status-object', jobType: 'LANE_LEVEL_MATCHING', status: 'failed', extra: { status: { value: 'FAILED' } } },
  ];
}
