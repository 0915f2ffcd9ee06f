import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/app.ts';
import { execute, testGateway } from '../helpers/gateway.ts';
import { serveGateway } from '../helpers/serve.ts';
import { reportSkip } from '../helpers/skips.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  reportSkip(
    'the GraphiQL browser test',
    `needs Debian's chromium at ${CHROMIUM}; enable it with: sudo apt-get install chromium`,
  );
}

/** The flags this machine's closed network needs (no background calls to Google's hosts). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

describe.skipIf(!hasChromium)('GraphiQL in headless Chromium, offline', () => {
  let gateway: Gateway;
  let served: Awaited<ReturnType<typeof serveGateway>>;
  let browser: Browser;
  beforeAll(async () => {
    gateway = testGateway();
    served = await serveGateway(gateway);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('loads with every asset from the gateway, runs a typed query and shows the answer', async () => {
    const created = await execute(
      gateway,
      'mutation { createThread(input: { metadata: { shown: "in-graphiql" } }) { id } }',
    );
    const id = (created.data as { createThread: { id: string } }).createThread.id;

    const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    const foreign: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['127.0.0.1', 'localhost'].includes(url.hostname) && !['blob:', 'data:'].includes(url.protocol)) {
        foreign.push(request.url());
      }
    });
    await page.goto(served.url, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor({ timeout: 20_000 });
    // The page opens with the example operation.
    await expect
      .poll(() => page.locator('.graphiql-query-editor').textContent(), { timeout: 10_000 })
      .toContain('createThread');

    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(`query ShowThread { thread(id: "${id}") { id metadata } }`);
    // The editor auto-closes brackets as they are typed; drop whatever it added after the cursor.
    await page.keyboard.press('Shift+Control+End');
    await page.keyboard.press('Delete');
    // GraphiQL takes the editor's text after a short debounce; then run it with its button.
    await page.waitForTimeout(500);
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => response.textContent(), { timeout: 15_000 }).toContain('in-graphiql');
    expect(await response.textContent()).toContain(id);
    expect(foreign).toEqual([]);

    // `GRAPHIQL_SCREENSHOT=docs/graphiql.png npx vitest run test/clients/graphiql-browser.test.ts` refreshes the README's picture.
    if (process.env.GRAPHIQL_SCREENSHOT) {
      await page.locator('button[aria-label^="Prettify"]').first().click();
      await editor.click();
      await page.keyboard.press('Control+Home');
      await page.waitForTimeout(500);
      mkdirSync(dirname(process.env.GRAPHIQL_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: process.env.GRAPHIQL_SCREENSHOT });
    }
  });

  it('runs a subscription: the run’s events arrive in the answer pane until it completes', async () => {
    const created = await execute(
      gateway,
      'mutation { createThread(input: { messages: [{ role: USER, content: "typed live" }] }) { id } }',
    );
    const threadId = (created.data as { createThread: { id: string } }).createThread.id;
    const run = await execute(
      gateway,
      `mutation { createRun(threadId: "${threadId}", input: { model: "echo" }) { runId } }`,
    );
    const runId = (run.data as { createRun: { runId: string } }).createRun.runId;
    const page = await browser.newPage({ viewport: { width: 1280, height: 640 } });
    await page.goto(served.url, { waitUntil: 'load' });
    const editor = page.locator('.graphiql-query-editor .monaco-editor').first();
    await editor.waitFor({ timeout: 20_000 });
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(
      `subscription Watch { runEvents(threadId: "${threadId}", runId: "${runId}") { __typename ... on RunStatusChanged { run { status } } } }`,
    );
    await page.keyboard.press('Shift+Control+End');
    await page.keyboard.press('Delete');
    await page.waitForTimeout(500);
    await page.locator('.graphiql-execute-button').click();
    const response = page.locator('.graphiql-response');
    await expect.poll(() => response.textContent(), { timeout: 15_000 }).toContain('COMPLETED');
  });
});
