import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ICruiseResult } from 'dependency-cruiser';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  cruiseSource,
  PICTURE_END,
  PICTURE_START,
  renderLayerPicture,
  ROOT,
} from '../scripts/layer-picture.js';

// test/fixtures/layers/src is shaped like src/: in every folder, a file named after a rule breaks
// that rule once; every other file imports only what its floor allows.
describe('the layer rules in .dependency-cruiser.mjs', () => {
  let fixture: ICruiseResult;
  beforeAll(async () => {
    fixture = await cruiseSource(resolve(ROOT, 'test/fixtures/layers'));
  }, 60_000);

  it('has no rule that a wrong import fails to break', () => {
    const ruleNames = (fixture.summary.ruleSetUsed?.forbidden ?? []).map((rule) => rule.name ?? '(unnamed)');
    expect(ruleNames).toEqual(expect.arrayContaining(['domain-imports-nothing-of-ours', 'state-imports-only-domain', 'no-folder-cycle', 'no-circular']));
    const broken = new Set(fixture.summary.violations.map((violation) => violation.rule.name));
    expect(ruleNames.filter((name) => !broken.has(name))).toEqual([]);
  });

  it('rejects each wrong import under the rule it breaks, and no allowed one', () => {
    const cycles = ['no-folder-cycle', 'no-circular'];
    const misplaced = fixture.summary.violations
      .filter((violation) => !cycles.includes(violation.rule.name))
      .filter((violation) => basename(violation.from, '.ts') !== violation.rule.name)
      .map((violation) => `${violation.rule.name}: ${violation.from} → ${violation.to}`);
    expect(misplaced).toEqual([]);
  });

  it('counts a type-only import as a dependency', () => {
    const typeOnly = fixture.summary.violations.find((violation) => violation.rule.name === 'domain-imports-nothing-of-ours');
    expect(typeOnly?.dependencyTypes).toContain('type-only');
    const cycle = fixture.summary.violations.filter((violation) => violation.rule.name === 'no-circular');
    expect(cycle.map((violation) => violation.from)).toContain('src/queue/no-circular-back.ts');
  });

  it('finds two folders on one floor that import each other', () => {
    const pairs = fixture.summary.violations
      .filter((violation) => violation.rule.name === 'no-folder-cycle')
      .map((violation) => `${violation.from} → ${violation.to}`);
    expect(pairs).toEqual(expect.arrayContaining(['src/alerts → src/digest', 'src/digest → src/alerts']));
  });
});

describe('the layer picture in docs/architecture.md', () => {
  it('is the one the imports in src/ draw now', async () => {
    const document = readFileSync(resolve(ROOT, 'docs/architecture.md'), 'utf8');
    const start = document.indexOf(PICTURE_START);
    const end = document.indexOf(PICTURE_END);
    expect(start, 'docs/architecture.md has lost its layer picture markers').toBeGreaterThanOrEqual(0);
    const committed = document.slice(start, end + PICTURE_END.length);
    expect(committed, 'the layer picture is stale: run npm run docs:layers').toBe(renderLayerPicture(await cruiseSource()));
  }, 60_000);
});
