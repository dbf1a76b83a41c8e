// The console's browser client, end to end: the real console started headless with its price
// simulator, the page it serves loaded in the system's Chromium, and the reference client
// (oddsdesk-client --json) as the judge of what the page should show. The console is
// stopped (SIGSTOP), terminated (SIGTERM) and started again on the same data folder and
// ports, and the page must say so and come back, its telemetry reaching the console.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, test } from 'node:test';

// Installed by npm ci beside this file (scripts/dev test runs it); never a browser of its own.
const { chromium } = await import('playwright-core').catch((error) => {
    throw new Error(`playwright-core is missing: run npm ci in tests/browser (${error.message})`);
});

const Console = process.env.ODDSDESK_CONSOLE;
const ReferenceClient = process.env.ODDSDESK_CLIENT;
const Chromium = process.env.ODDSDESK_CHROMIUM || '/usr/bin/chromium';
const Artifacts = process.env.ODDSDESK_ARTIFACTS || os.tmpdir();

// A short heartbeat keeps the test quick: stale after three of them, 1.5 s.
const HeartbeatMs = 500;
// Enough simulated changes that the few markets the page shows move within seconds.
const SimulateRate = 400;
// An allow-list that does not name the console's own address: the page must get in anyway.
const ForeignOrigin = 'http://desk.example.invalid';
// How long any one step may take before the test gives up on it.
const StepTimeoutMs = 20000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, condition, timeoutMs = StepTimeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await condition();
        if (value)
            return value;
        if (Date.now() > deadline)
            throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
    }
}

// The console, headless, on the given data folder and ports (0 picks free ones).
class HeadlessConsole {
    constructor(dataDirectory, port, httpPort) {
        this.errors = '';
        this.process = spawn(Console, [
            '--headless', '--data', dataDirectory, '--port', String(port),
            '--http-port', String(httpPort), '--heartbeat-ms', String(HeartbeatMs),
            '--simulate', '--simulate-rate', String(SimulateRate),
            '--allowed-origins', ForeignOrigin,
        ], { stdio: ['ignore', 'pipe', 'pipe'] });
        this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) =>
            resolve({ code, signal })));
        this.process.stderr.on('data', (chunk) => { this.errors += chunk; });
        this.urls = new Promise((resolve, reject) => {
            const found = {};
            readline.createInterface({ input: this.process.stdout }).on('line', (line) => {
                const ws = line.match(/^listening on (ws:\/\/\S+)$/);
                const web = line.match(/^http on (http:\/\/\S+)$/);
                if (ws)
                    found.ws = ws[1];
                if (web)
                    found.http = web[1];
                if (found.ws && found.http)
                    resolve(found);
            });
            this.exited.then(() => reject(new Error(`the console exited: ${this.errors}`)));
        });
    }

    signal(name) {
        process.kill(this.process.pid, name);
    }

    async stop() {
        if (this.process.exitCode !== null || this.process.signalCode !== null)
            return;
        this.signal('SIGCONT');
        this.signal('SIGTERM');
        await this.exited;
    }
}

// The reference client's view of the feed: its snapshot and every delta after it, so that
// the book can be told at any sequence it saw.
class Reference {
    constructor(wsUrl) {
        this.snapshot = null;
        this.deltas = [];
        this.process = spawn(ReferenceClient, ['--json', '--no-reconnect', wsUrl],
            { stdio: ['ignore', 'pipe', 'ignore'] });
        this.exited = new Promise((resolve) => this.process.on('exit', resolve));
        let parts = [];
        readline.createInterface({ input: this.process.stdout }).on('line', (line) => {
            const message = JSON.parse(line);
            if (message.snapshot) {
                parts.push(message.snapshot);
                if (message.snapshot.last) {
                    this.snapshot = {
                        sequence: Number(message.snapshot.sequence),
                        markets: parts.flatMap((p) => p.markets || []),
                    };
                    parts = [];
                    this.deltas = [];
                }
            } else if (message.delta) {
                this.deltas.push(message.delta);
            }
        });
    }

    lastSequence() {
        if (!this.snapshot)
            return 0;
        const last = this.deltas[this.deltas.length - 1];
        return last ? Number(last.toSequence) : this.snapshot.sequence;
    }

    // Market id -> { status, prices: selection id -> price } at exactly this sequence, or
    // null if the reference never stood at it (no delta ended there).
    bookAt(sequence) {
        if (!this.snapshot || sequence < this.snapshot.sequence)
            return null;
        const book = new Map();
        for (const m of this.snapshot.markets) {
            book.set(Number(m.id), {
                status: m.status,
                prices: new Map((m.selections || []).map((s) => [Number(s.id), Number(s.price)])),
            });
        }
        let at = this.snapshot.sequence;
        for (const delta of this.deltas) {
            if (Number(delta.toSequence) > sequence)
                break;
            for (const c of delta.changes || []) {
                const market = book.get(Number(c.marketId));
                if (!market)
                    continue;
                if (c.price)
                    market.prices.set(Number(c.price.selectionId), Number(c.price.price));
                if (c.status)
                    market.status = c.status;
            }
            at = Number(delta.toSequence);
        }
        return at === sequence ? book : null;
    }

    async stop() {
        if (this.process.exitCode === null && this.process.signalCode === null) {
            this.process.kill('SIGTERM');
            await this.exited;
        }
    }
}

// A WebSocket opening handshake with the given Origin; resolves to the HTTP status.
function handshakeStatus(wsUrl, origin) {
    const url = new URL(wsUrl);
    return new Promise((resolve, reject) => {
        const request = http.request({
            host: url.hostname, port: url.port, path: '/', headers: {
                Connection: 'Upgrade', Upgrade: 'websocket', Origin: origin,
                'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
                'Sec-WebSocket-Protocol': 'oddsdesk.v1+json',
            },
        });
        request.on('upgrade', (response, socket) => {
            socket.destroy();
            resolve(response.statusCode);
        });
        request.on('response', (response) => {
            response.resume();
            resolve(response.statusCode);
        });
        request.on('error', reject);
        request.end();
    });
}

async function metric(httpUrl, name) {
    const answer = await fetch(`${httpUrl}/metrics`);
    const text = await answer.text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : NaN;
}

// What the page shows, read in one go so that the prices and the sequence belong together.
function pageBook(page) {
    return page.evaluate(() => ({
        status: document.getElementById('status').dataset.status,
        statusText: document.getElementById('status').textContent,
        sequence: Number(document.getElementById('feed-info').dataset.sequence),
        epoch: document.getElementById('feed-info').dataset.epoch,
        markets: [...document.querySelectorAll('.market')].map((m) => ({
            id: Number(m.dataset.marketId),
            status: m.dataset.status,
            prices: [...m.querySelectorAll('.selection')].map((s) => ({
                id: Number(s.dataset.selectionId),
                price: Number(s.dataset.price),
                text: s.querySelector('.price').textContent,
            })),
        })),
    }));
}

const StatusNames = {
    MARKET_STATUS_OPEN: 'open', MARKET_STATUS_SUSPENDED: 'suspended',
    MARKET_STATUS_CLOSED: 'closed',
};

// Waits until a price the page shows moves, then checks every market it shows against the
// reference client's book at the page's sequence.
async function checkAgainstReference(page, reference) {
    await waitFor('the reference snapshot', () => reference.snapshot);
    const first = await pageBook(page);
    assert.ok(first.markets.length >= 4, 'the page shows a few markets');
    const initial = new Map(first.markets.flatMap((m) => m.prices.map((p) => [p.id, p.price])));
    const moved = await waitFor('a price on the page to move', async () => {
        const now = await pageBook(page);
        return now.markets.some((m) => m.prices.some((p) => p.price !== initial.get(p.id)))
            && now.sequence >= reference.snapshot.sequence ? now : null;
    });
    await waitFor('the reference to reach the page', () =>
        reference.lastSequence() >= moved.sequence);
    const book = reference.bookAt(moved.sequence);
    assert.ok(book, `the reference stood at sequence ${moved.sequence}`);
    let changed = 0;
    for (const market of moved.markets) {
        const expected = book.get(market.id);
        assert.ok(expected, `market ${market.id} is in the reference book`);
        assert.equal(market.status, StatusNames[expected.status], `market ${market.id} status`);
        for (const p of market.prices) {
            assert.equal(p.price, expected.prices.get(p.id),
                `selection ${p.id} at ${moved.sequence}`);
            // Hundredths shown as decimal odds, without floating point.
            const shown = `${Math.floor(p.price / 100)}.${String(p.price % 100).padStart(2, '0')}`;
            assert.equal(p.text, shown);
            if (p.price !== initial.get(p.id))
                ++changed;
        }
    }
    assert.ok(changed > 0);
    return moved;
}

const statusOf = async (page) =>
    page.evaluate(() => document.getElementById('status').dataset.status);

async function waitForStatus(page, status, timeoutMs = StepTimeoutMs) {
    await waitFor(`the page to say ${status}`, async () => (await statusOf(page)) === status,
        timeoutMs);
    // The line says exactly that word and nothing else.
    const text = await page.evaluate(() => document.getElementById('status').textContent);
    assert.equal(text, status);
}

let dataDirectory;
let userDataDirectory;
let consoles = [];
let context;

before(() => {
    assert.ok(Console && ReferenceClient, 'ODDSDESK_CONSOLE and ODDSDESK_CLIENT name the programs');
    dataDirectory = mkdtempSync(path.join(os.tmpdir(), 'oddsdesk-web-data-'));
    userDataDirectory = mkdtempSync(path.join(os.tmpdir(), 'oddsdesk-web-browser-'));
});

after(async () => {
    if (context)
        await context.close();
    for (const c of consoles)
        await c.stop();
    rmSync(dataDirectory, { recursive: true, force: true });
    rmSync(userDataDirectory, { recursive: true, force: true });
});

test('the page follows the feed through a stall, a shutdown and a restart', async () => {
    const first = new HeadlessConsole(dataDirectory, 0, 0);
    consoles.push(first);
    const urls = await first.urls;
    const ownOrigin = urls.http;

    // The allow-list holds: a stranger's origin is refused, the console's own page is not.
    assert.equal(await handshakeStatus(urls.ws, 'http://elsewhere.example.invalid'), 403);
    assert.equal(await handshakeStatus(urls.ws, ownOrigin), 101);

    const reference = new Reference(urls.ws);
    context = await chromium.launchPersistentContext(userDataDirectory, {
        executablePath: Chromium,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1120, height: 540 },
    });
    const page = context.pages()[0] || await context.newPage();
    const browserErrors = [];
    page.on('pageerror', (error) => browserErrors.push(String(error)));
    await page.goto(`${urls.http}/`);
    await waitForStatus(page, 'live');

    // (a) The prices it shows move as the feed moves them, and are what the reference sees.
    const seen = await checkAgainstReference(page, reference);
    await reference.stop();
    mkdirSync(Artifacts, { recursive: true });
    await page.screenshot({ path: path.join(Artifacts, 'web.png') });

    // A console that stops answering (the process is frozen, its sockets stay open): the
    // page first says stale, then gives the connection up, and resumes when it answers.
    first.signal('SIGSTOP');
    await waitForStatus(page, 'stale', 5000);
    await waitForStatus(page, 'reconnecting', 5000);
    first.signal('SIGCONT');
    await waitForStatus(page, 'live');
    const resumed = await page.evaluate(() => document.getElementById('feed-info').dataset);
    assert.equal(Number(resumed.resumes), 1, 'the page resumed its session');
    assert.equal(resumed.epoch, seen.epoch, 'the same feed');

    // (b) The console shuts down (going away): the page says it is reconnecting.
    first.signal('SIGTERM');
    assert.deepEqual(await first.exited, { code: 0, signal: null });
    await waitForStatus(page, 'reconnecting', 5000);

    // (c) It comes back on the same folder and ports: a new epoch, so a fresh snapshot.
    const second = new HeadlessConsole(dataDirectory, new URL(urls.ws).port,
        new URL(urls.http).port);
    consoles.push(second);
    const again = await second.urls;
    assert.equal(again.ws, urls.ws);
    const reference2 = new Reference(again.ws);
    await waitForStatus(page, 'live', 30000);
    const back = await page.evaluate(() => document.getElementById('feed-info').dataset);
    assert.notEqual(back.epoch, seen.epoch, 'a restarted feed has a new epoch');
    assert.ok(Number(back.fallbacks) >= 1, 'the resume fell back to a snapshot');
    assert.ok(Number(back.sequence) >= seen.sequence, 'sequences carry on increasing');
    await checkAgainstReference(page, reference2);
    await reference2.stop();

    // Its telemetry reached the console: the reconnect attempts it reported while away, and
    // the snapshot fallback the console counted.
    await waitFor('the page telemetry in the metrics', async () =>
        await metric(again.http, 'oddsdesk_client_reconnect_attempts_total') >= 1
        && await metric(again.http, 'oddsdesk_snapshot_fallbacks_total') >= 1);

    assert.deepEqual(browserErrors, []);
});
