// Drives a code-server page in Debian's headless Chromium for tests/vscode (the test decides and
// asserts; this only acts and reports what the page shows).
//
// Protocol: one JSON request per stdin line, {"id", "action", "args"}; one JSON answer per stdout
// line, {"id", "ok": true, "result"} or {"id", "ok": false, "error"}. Every wait is bounded by the
// request's `timeout` (ms). Stdin closing ends the browser and the process, so a test that dies
// cannot leave Chromium behind.
import * as readline from 'node:readline';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.KUBELOCAL_E2E_CHROMIUM || '/usr/bin/chromium';
const QUICK_INPUT = '.quick-input-widget';

let browser;
let page;

function log(message) {
    process.stderr.write(`[driver] ${message}\n`);
}

async function visibleTexts(selector) {
    return page.locator(selector).evaluateAll((nodes) =>
        nodes.filter((node) => node.offsetParent !== null).map((node) => node.textContent.trim()),
    );
}

/** The quick input's title, prompt and visible rows (label and description, as shown). */
async function quickInputState() {
    const widget = page.locator(QUICK_INPUT);
    return widget.evaluate((node) => {
        const text = (selector) => node.querySelector(selector)?.textContent?.trim() ?? '';
        const rows = [...node.querySelectorAll('.quick-input-list .monaco-list-row')].map((row) => ({
            label: row.querySelector('.label-name')?.textContent?.trim() ?? '',
            description: row.querySelector('.label-description')?.textContent?.trim() ?? '',
            focused: row.classList.contains('focused'),
        }));
        return {
            title: text('.quick-input-title'),
            placeholder: node.querySelector('.quick-input-box input')?.getAttribute('placeholder') ?? '',
            prompt: text('.quick-input-message'),
            value: node.querySelector('.quick-input-box input')?.value ?? '',
            rows,
        };
    });
}

const actions = {
    /** `profile`: Chromium's user data directory, inside the test's temp directory so the test can find its processes. */
    async open({ url, profile, width = 1120, height = 700, timeout }) {
        browser = await chromium.launchPersistentContext(profile, {
            executablePath: CHROMIUM,
            headless: true,
            args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
            viewport: { width, height },
            timeout,
        });
        page = browser.pages()[0] ?? (await browser.newPage());
        page.on('pageerror', (error) => log(`page error: ${error.message}`));
        await page.goto(url, { timeout });
        await page.locator('.monaco-workbench').waitFor({ timeout });
        await page.locator('.part.statusbar').waitFor({ timeout });
        return { title: await page.title() };
    },

    async screenshot({ path }) {
        await page.screenshot({ path });
        return { path };
    },

    async press({ key }) {
        await page.keyboard.press(key);
        return null;
    },

    async type({ text }) {
        await page.keyboard.type(text, { delay: 20 });
        return null;
    },

    /** Ctrl+P, the file's name, Enter: waits until its tab is the active one. */
    async openFile({ name, timeout }) {
        await page.keyboard.press('Control+P');
        await page.locator(`${QUICK_INPUT} input`).waitFor({ timeout });
        await page.keyboard.type(name, { delay: 10 });
        await page.locator(`${QUICK_INPUT} .monaco-list-row`).first().waitFor({ timeout });
        await page.keyboard.press('Enter');
        await page.locator(`.tab.active[aria-label^="${name}"]`).waitFor({ timeout });
        await page.locator('.monaco-editor .view-lines').first().waitFor({ timeout });
        return null;
    },

    /** Ctrl+G to a line and column (1-based), so typing goes there. */
    async goTo({ line, column, timeout }) {
        await page.keyboard.press('Control+G');
        await page.locator(`${QUICK_INPUT} input`).waitFor({ timeout });
        await page.keyboard.type(`${line}:${column}`);
        await page.keyboard.press('Enter');
        await page.locator(QUICK_INPUT).waitFor({ state: 'hidden', timeout });
        return null;
    },

    /**
     * Opens the Problems panel and waits until it lists between `atLeast` and `atMost` problems;
     * returns each row (file rows have an empty message).
     */
    async problems({ atLeast = 0, atMost = Number.MAX_SAFE_INTEGER, timeout }) {
        // Ctrl+Shift+M toggles: pressed while the panel shows and has focus, it would hide it.
        if (!(await page.locator('.markers-panel').isVisible())) {
            await page.keyboard.press('Control+Shift+M');
        }
        await page.locator('.markers-panel').waitFor({ timeout });
        const rows = page.locator('.markers-panel .monaco-list-row');
        const deadline = Date.now() + timeout;
        let found = [];
        while (Date.now() < deadline) {
            found = await rows.evaluateAll((nodes) =>
                nodes.map((node) => ({
                    ariaLabel: node.getAttribute('aria-label') ?? '',
                    message: node.querySelector('.marker-message-details, .marker-message')?.textContent?.trim() ?? '',
                    text: node.textContent.trim(),
                })),
            );
            const count = found.filter((row) => row.message).length;
            if (count >= atLeast && count <= atMost) {
                return found;
            }
            await page.waitForTimeout(250);
        }
        throw new Error(
            `the Problems panel did not list ${atLeast} to ${atMost} problems within ${timeout} ms: ${JSON.stringify(found)}`,
        );
    },

    /** Ctrl+Space; waits for the suggest widget and returns its rows' labels. */
    async suggest({ timeout }) {
        await page.keyboard.press('Control+Space');
        const rows = page.locator('.editor-widget.suggest-widget.visible .monaco-list-row');
        await rows.first().waitFor({ timeout });
        // The list fills in as the server answers: give it a moment to settle.
        await page.waitForTimeout(300);
        return rows.evaluateAll((nodes) =>
            nodes.map((node) => ({
                label: node.querySelector('.label-name')?.textContent?.trim() ?? '',
                ariaLabel: node.getAttribute('aria-label') ?? '',
            })),
        );
    },

    /** F1, the command's title, Enter on the row whose label is exactly that title. */
    async command({ title, timeout }) {
        await page.keyboard.press('F1');
        const input = page.locator(`${QUICK_INPUT} input`);
        await input.waitFor({ timeout });
        await page.keyboard.type(title, { delay: 10 });
        const row = page.locator(`${QUICK_INPUT} .monaco-list-row`, {
            has: page.locator('.label-name', { hasText: title }),
        });
        await row.first().waitFor({ timeout });
        const labels = await visibleTexts(`${QUICK_INPUT} .monaco-list-row .label-name`);
        if (!labels.includes(title)) {
            throw new Error(`the command palette has no "${title}"; it shows: ${JSON.stringify(labels)}`);
        }
        await page.keyboard.press('Enter');
        return null;
    },

    /**
     * Waits until the quick input shows a title containing `title` (with rows when `rows` is set),
     * and returns what it shows.
     */
    async quickInput({ title, rows = false, timeout }) {
        const deadline = Date.now() + timeout;
        let state;
        while (Date.now() < deadline) {
            if (await page.locator(QUICK_INPUT).isVisible()) {
                state = await quickInputState();
                if (state.title.includes(title) && (!rows || state.rows.length > 0)) {
                    return state;
                }
            }
            await page.waitForTimeout(200);
        }
        throw new Error(`no quick input titled "${title}" within ${timeout} ms; last seen: ${JSON.stringify(state ?? 'none')}`);
    },

    /** Filters the quick pick by `text` (replacing what is typed) and waits until `label` is the focused row, then Enter. */
    async pick({ text, label, timeout }) {
        await page.keyboard.press('Control+A');
        await page.keyboard.type(text, { delay: 10 });
        const deadline = Date.now() + timeout;
        let state;
        while (Date.now() < deadline) {
            state = await quickInputState();
            if (state.rows.some((row) => row.focused && row.label === label)) {
                await page.keyboard.press('Enter');
                return state;
            }
            await page.waitForTimeout(200);
        }
        throw new Error(`"${label}" did not become the focused row within ${timeout} ms; last seen: ${JSON.stringify(state)}`);
    },

    /** Replaces an input box's value with `text` and presses Enter. */
    async enter({ text, timeout }) {
        await page.locator(`${QUICK_INPUT} input`).waitFor({ timeout });
        await page.keyboard.press('Control+A');
        await page.keyboard.type(text, { delay: 10 });
        await page.keyboard.press('Enter');
        return null;
    },

    /** Waits until a status bar entry whose id contains `id` shows text containing `text`; returns its text. */
    async statusBar({ id, text, timeout }) {
        const deadline = Date.now() + timeout;
        let seen = [];
        while (Date.now() < deadline) {
            seen = await page.locator(`.part.statusbar .statusbar-item[id*="${id}"]`).evaluateAll((nodes) =>
                nodes.map((node) => ({ id: node.id, text: node.textContent.trim(), label: node.getAttribute('aria-label') ?? '' })),
            );
            const match = seen.find((entry) => entry.text.includes(text) || entry.label.includes(text));
            if (match) {
                return match;
            }
            await page.waitForTimeout(200);
        }
        throw new Error(`no status bar entry "${id}" showing "${text}" within ${timeout} ms; seen: ${JSON.stringify(seen)}`);
    },

    /** The notifications' messages currently shown (toasts). */
    async notifications() {
        return visibleTexts('.notification-list-item-message');
    },

    /** Waits for a notification whose message contains `text`; returns all shown. */
    async notification({ text, timeout }) {
        const deadline = Date.now() + timeout;
        let seen = [];
        while (Date.now() < deadline) {
            seen = await visibleTexts('.notification-list-item-message');
            if (seen.some((message) => message.includes(text))) {
                // Let the toast finish sliding in, so a screenshot shows it whole.
                await page.waitForTimeout(700);
                return seen;
            }
            await page.waitForTimeout(200);
        }
        throw new Error(`no notification containing "${text}" within ${timeout} ms; shown: ${JSON.stringify(seen)}`);
    },

    async close() {
        await browser?.close();
        browser = undefined;
        return null;
    },
};

async function serve() {
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
        if (!line.trim()) {
            continue;
        }
        const request = JSON.parse(line);
        let answer;
        try {
            const action = actions[request.action];
            if (!action) {
                throw new Error(`unknown action ${request.action}`);
            }
            answer = { id: request.id, ok: true, result: await action({ timeout: 30000, ...request.args }) };
        } catch (error) {
            answer = { id: request.id, ok: false, error: String(error?.stack ?? error) };
        }
        process.stdout.write(`${JSON.stringify(answer)}\n`);
    }
    await browser?.close();
}

serve().catch(async (error) => {
    log(`fatal: ${error?.stack ?? error}`);
    await browser?.close().catch(() => undefined);
    process.exit(1);
});
