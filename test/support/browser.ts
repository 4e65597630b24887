/**
 * What the browser suites share: Debian's Chromium driven by playwright-core (missing prerequisites
 * fail the suite loudly — a browser suite that skips proves nothing), the built console, and
 * axe-core's check of a page.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import axe from 'axe-core';
import { type Browser, chromium, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DIST = join(__dirname, '../../console/dist');

/** Chromium, after checking it and the named console build files exist; the screenshot folder made. */
export async function launchBrowser(options: { built: readonly string[]; shots: string }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  for (const built of options.built) {
    if (!existsSync(join(DIST, built))) {
      throw new Error(
        `console/dist/${built} is missing: run \`npm run build:console\` (npm test runs it before jest)`,
      );
    }
  }
  mkdirSync(options.shots, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** A page as the suites use it: desktop size, and waits generous for a 2-core machine shared with the rest. */
export async function newConsolePage(browser: Browser): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(15_000);
  return page;
}

/** axe-core's serious and critical violations on the page as it is, each with where it is. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the console's CSP (script-src 'self') allows;
  // a script tag would be refused, as any injected script should be.
  if (!(await page.evaluate(() => 'axe' in globalThis))) await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const inPage = globalThis as any;
    const result = await (inPage.axe as typeof axe).run(inPage.document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map(
        (violation) =>
          `${violation.id} (${violation.impact}): ${violation.nodes.map((n) => n.target).join(', ')}`,
      );
  });
}

/** A screenshot under `shots`, then the accessibility check: both, so a page cannot pass one and skip the other. */
export async function screenshotAndCheck(page: Page, shots: string, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  expect({ page: name, violations: await seriousViolations(page) }).toEqual({ page: name, violations: [] });
}
