// The OddsDesk browser client: a feed client written from docs/protocol.md on the JSON
// subprotocol, with no library. It keeps its own copy of the first markets of the book,
// applies deltas, acknowledges them, reports telemetry like every other client, notices a
// silent connection and reconnects with full-jitter backoff, resuming where it was.
'use strict';

(() => {
    const Subprotocol = 'oddsdesk.v1+json';
    const ProtocolVersion = 1;
    const ClientName = 'oddsdesk-web';

    // The same constants as the C++ client (engine/feedclient.h), so that a browser behaves
    // like every other client in a reconnect storm.
    const BackoffBaseMs = 500;
    const BackoffCapMs = 20000;
    // A connection that stayed up this long resets the backoff to its first step.
    const StableAfterMs = 10000;
    // Without any message for this many heartbeat intervals the client calls itself stale,
    // gives the connection up and resumes.
    const StaleAfterHeartbeats = 3;
    // A connection attempt not open by then is given up and tried again after the backoff:
    // a blackholed network lets an attempt hang for minutes.
    const ConnectTimeoutMs = 10000;
    // Past one and a half intervals a heartbeat is overdue: the page warns that what it
    // shows may be out of date before it gives the connection up.
    const OverdueAfterHeartbeats = 1.5;
    // How often silence is checked; a quarter of a second, as in the C++ client.
    const LivenessCheckMs = 250;
    // Telemetry leaves in small batches: at most this many events once a second, and at most
    // this many are kept while disconnected (the oldest are dropped).
    const TelemetryBatchMax = 32;
    const TelemetryIntervalMs = 1000;
    const TelemetryQueueMax = 256;
    // The heartbeat interval assumed until a welcome says otherwise: the server's default.
    const DefaultHeartbeatMs = 2000;
    // Bounds on the server's hints (retry after, reconnect window), as in the C++ client.
    const MaxServerHintMs = 300000;
    // Markets shown: the first ones of the snapshot; ?markets=N asks for another number.
    const DefaultMarketCount = 8;
    const MaxMarketCount = 50;
    // A moved price is lit for this long.
    const FlashMs = 1200;

    const Kind = {
        connected: 'KIND_CONNECTED',
        disconnected: 'KIND_DISCONNECTED',
        reconnectAttempt: 'KIND_RECONNECT_ATTEMPT',
        resumed: 'KIND_RESUMED',
        snapshotFallback: 'KIND_SNAPSHOT_FALLBACK',
        gap: 'KIND_GAP_DETECTED',
        stale: 'KIND_STALE',
        decodeError: 'KIND_DECODE_ERROR',
    };
    const StatusText = {
        MARKET_STATUS_OPEN: 'open',
        MARKET_STATUS_SUSPENDED: 'suspended',
        MARKET_STATUS_CLOSED: 'closed',
    };

    // Microseconds on a clock that never steps back, as the protocol asks of acks and
    // telemetry; the server works out its offset from ours.
    const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);
    const nowMs = () => performance.now();
    // 64-bit numbers arrive as strings and a default value not at all.
    const num = (value) => (value === undefined || value === null ? 0 : Number(value));

    // Prices are integers in hundredths: 157 is 1.57, shown without floating point.
    function formatPrice(price) {
        const p = num(price);
        return `${Math.floor(p / 100)}.${String(p % 100).padStart(2, '0')}`;
    }

    function marketCountFromQuery() {
        const asked = Number(new URLSearchParams(location.search).get('markets'));
        return Number.isInteger(asked) && asked > 0
            ? Math.min(asked, MaxMarketCount) : DefaultMarketCount;
    }

    // The book as far as the page shows it: its first markets and their events.
    class Book {
        constructor(markets, events, count) {
            this.events = new Map(events.map((e) => [num(e.id), e]));
            this.markets = new Map();
            for (const m of markets.slice(0, count))
                this.markets.set(num(m.id), Book.market(m));
        }

        static market(m) {
            return {
                id: num(m.id),
                eventId: num(m.eventId ?? m.event_id),
                name: m.name || '',
                status: m.status || 'MARKET_STATUS_UNSPECIFIED',
                selections: (m.selections || []).map((s) => ({
                    id: num(s.id), name: s.name || '', price: num(s.price), winner: !!s.winner,
                })),
            };
        }

        // Applies one change of a delta; returns the market it touched, or null when the
        // page does not show that market or the change is of a kind it does not know.
        apply(change) {
            const marketId = num(change.marketId ?? change.market_id);
            if (change.event) {
                this.events.set(num(change.event.id), change.event);
                return null;
            }
            if (change.market) {
                if (!this.markets.has(marketId))
                    return null;
                this.markets.set(marketId, Book.market(change.market));
                return { market: this.markets.get(marketId), whole: true };
            }
            const market = this.markets.get(marketId);
            if (!market)
                return null;
            if (change.price) {
                const id = num(change.price.selectionId ?? change.price.selection_id);
                const selection = market.selections.find((s) => s.id === id);
                if (!selection)
                    return null;
                const before = selection.price;
                selection.price = num(change.price.price);
                return { market, selection, before };
            }
            if (change.status !== undefined) {
                market.status = change.status;
                return { market, whole: true };
            }
            const winner = change.winnerSelectionId ?? change.winner_selection_id;
            if (winner !== undefined) {
                for (const s of market.selections)
                    s.winner = s.id === num(winner);
                return { market, whole: true };
            }
            return null; // a change of a kind from a newer server: skipped
        }
    }

    class FeedClient {
        constructor(url, version, view) {
            this.url = url;
            this.version = version;
            this.view = view;
            this.socket = null;
            this.state = 'idle'; // connecting, handshaking, live, backoff
            this.book = null;
            this.pending = null; // snapshot parts until the last
            this.lastSequence = 0;
            this.serverHead = 0;
            this.sessionId = '';
            this.resumeToken = '';
            this.epoch = '';
            this.askedResume = false;
            this.heartbeatMs = DefaultHeartbeatMs;
            this.lastMessageAt = 0;
            this.attemptStartedAt = 0;
            this.connectedAt = 0;
            this.stale = false;
            this.staleSinceAt = 0;
            this.attempt = 0;
            this.retryAfterMs = 0;
            this.reconnectWindowMs = 0;
            this.reconnectTimer = 0;
            this.reconnectAt = 0;
            this.telemetry = [];
            this.stats = { resumes: 0, fallbacks: 0, epochs: 0, reconnects: 0, gaps: 0 };
            setInterval(() => this.checkLiveness(), LivenessCheckMs);
            setInterval(() => this.flushTelemetry(), TelemetryIntervalMs);
        }

        start() {
            this.connect();
        }

        connect() {
            this.reconnectTimer = 0;
            this.setState('connecting');
            this.attemptStartedAt = nowMs();
            let socket;
            try {
                socket = new WebSocket(this.url, Subprotocol);
            } catch (error) {
                this.view.detail(`The feed address ${this.url} is not usable: ${error.message}`);
                return;
            }
            this.socket = socket;
            socket.onopen = () => this.onOpen();
            socket.onmessage = (event) => this.onMessage(event.data);
            socket.onclose = (event) => this.onClose(event.code, event.reason);
        }

        onOpen() {
            this.connectedAt = this.lastMessageAt = nowMs();
            this.setState('handshaking');
            const hello = {
                protocolVersion: ProtocolVersion, clientName: ClientName,
                clientVersion: this.version,
            };
            this.askedResume = this.sessionId !== '' && this.book !== null;
            if (this.askedResume) {
                hello.resume = {
                    sessionId: this.sessionId, resumeToken: this.resumeToken, epoch: this.epoch,
                    lastSequence: String(this.lastSequence),
                };
            }
            this.send({ hello });
            this.report(Kind.connected);
        }

        onMessage(data) {
            const receivedUs = nowUs();
            this.lastMessageAt = nowMs();
            let message;
            try {
                message = JSON.parse(data);
            } catch (error) {
                this.report(Kind.decodeError, { reason: String(error.message) });
                return;
            }
            if (this.stale) {
                this.stale = false;
                const staleMs = Math.round(this.lastMessageAt - this.staleSinceAt);
                this.report(Kind.stale,
                    { reason: `no message for ${staleMs} ms`, delayMs: staleMs });
            }
            if (message.welcome)
                this.onWelcome(message.welcome);
            else if (message.snapshot)
                this.onSnapshot(message.snapshot, receivedUs);
            else if (message.delta)
                this.onDelta(message.delta, receivedUs);
            else if (message.heartbeat)
                this.serverHead = Math.max(this.serverHead, num(message.heartbeat.headSequence));
            else if (message.error)
                this.onError(message.error);
            this.view.update(this);
        }

        onWelcome(welcome) {
            const resumed = !!welcome.resumed;
            const epoch = welcome.epoch || '';
            if (this.epoch !== '' && epoch !== this.epoch)
                ++this.stats.epochs;
            this.sessionId = welcome.sessionId || '';
            this.resumeToken = welcome.resumeToken || '';
            this.epoch = epoch;
            this.heartbeatMs
                = Math.max(100, num(welcome.heartbeatIntervalMs) || DefaultHeartbeatMs);
            this.serverHead = num(welcome.headSequence);
            if (resumed) {
                ++this.stats.resumes;
                this.report(Kind.resumed, { sequence: this.lastSequence });
            } else if (this.askedResume) {
                ++this.stats.fallbacks;
                this.report(Kind.snapshotFallback, { sequence: this.lastSequence });
            }
            this.pending = null;
            this.setState('live');
            this.flushTelemetry();
        }

        onSnapshot(snapshot, receivedUs) {
            if (!this.pending || num(snapshot.part) === 0)
                this.pending = { events: [], markets: [] };
            this.pending.events.push(...(snapshot.events || []));
            this.pending.markets.push(...(snapshot.markets || []));
            if (!snapshot.last)
                return;
            // The union of the parts replaces the whole book, only once the last has come.
            this.book = new Book(this.pending.markets, this.pending.events, this.view.marketCount);
            this.pending = null;
            this.lastSequence = num(snapshot.sequence);
            this.ack(receivedUs);
            this.view.renderBook(this.book);
        }

        onDelta(delta, receivedUs) {
            if (!this.book)
                return; // the server never sends a delta before the snapshot
            const from = num(delta.fromSequence);
            const to = num(delta.toSequence);
            if (to <= this.lastSequence)
                return; // already applied
            if (from !== this.lastSequence + 1) {
                // A gap: apply nothing, resume from what we have to get exactly what is missing.
                ++this.stats.gaps;
                this.report(Kind.gap, { sequence: this.lastSequence });
                this.abandon(`sequence gap: expected ${this.lastSequence + 1}, got ${from}`);
                return;
            }
            for (const change of delta.changes || []) {
                const touched = this.book.apply(change);
                if (touched)
                    this.view.renderChange(this.book, touched);
            }
            this.lastSequence = to;
            this.serverHead = Math.max(this.serverHead, to);
            this.ack(receivedUs);
        }

        onError(error) {
            // Hints from the server, bounded so that a broken server cannot park us for long.
            if (error.code === 'CODE_OVERLOADED')
                this.retryAfterMs = Math.min(num(error.retryAfterMs), MaxServerHintMs);
            if (error.code === 'CODE_GOING_AWAY')
                this.reconnectWindowMs = Math.min(num(error.reconnectWindowMs), MaxServerHintMs);
            this.view.detail(error.message ? `The feed said: ${error.message}` : '');
        }

        ack(receivedUs) {
            const ack = { sequence: String(this.lastSequence), receiveTimeUs: String(receivedUs) };
            this.send({ ack });
        }

        send(message) {
            if (this.socket && this.socket.readyState === WebSocket.OPEN)
                this.socket.send(JSON.stringify(message));
        }

        onClose(code, reason) {
            this.socket = null;
            this.disconnected(code, reason || 'connection closed');
        }

        // Gives a connection up without waiting for its close handshake, which a dead network
        // never completes; what comes of the old socket later is ignored.
        abandon(reason) {
            const socket = this.socket;
            if (!socket)
                return;
            socket.onopen = socket.onmessage = socket.onclose = null;
            socket.close(1000, reason.slice(0, 120));
            this.socket = null;
            this.disconnected(1006, reason);
        }

        disconnected(code, reason) {
            this.report(Kind.disconnected, { reason: `${code} ${reason}` });
            // A connection that stayed up long enough was a success: start the backoff afresh.
            if (this.connectedAt !== 0 && nowMs() - this.connectedAt > StableAfterMs)
                this.attempt = 0;
            this.connectedAt = 0;
            this.scheduleReconnect();
        }

        scheduleReconnect() {
            ++this.attempt;
            ++this.stats.reconnects;
            // Full jitter: attempt n waits a random time in [0, min(cap, base * 2^(n-1))]. A
            // server going away may ask for a wider window, so that its clients come back
            // spread out.
            const step = BackoffBaseMs * 2 ** Math.min(this.attempt - 1, 20);
            const ceiling = Math.min(BackoffCapMs, step);
            const window = Math.max(ceiling, this.reconnectWindowMs);
            this.reconnectWindowMs = 0;
            const delay = Math.max(Math.floor(Math.random() * (window + 1)), this.retryAfterMs);
            this.retryAfterMs = 0;
            this.report(Kind.reconnectAttempt, { attempt: this.attempt, delayMs: delay });
            this.reconnectAt = nowMs() + delay;
            this.setState('backoff');
            this.reconnectTimer = setTimeout(() => this.connect(), delay);
        }

        checkLiveness() {
            const limitMs = this.heartbeatMs * StaleAfterHeartbeats;
            if (this.state === 'connecting') {
                if (nowMs() - this.attemptStartedAt > ConnectTimeoutMs)
                    this.abandon(`no connection within ${ConnectTimeoutMs} ms`);
            } else if (this.state === 'live' || this.state === 'handshaking') {
                const silentMs = nowMs() - this.lastMessageAt;
                if (silentMs > limitMs) {
                    if (!this.stale) {
                        this.stale = true;
                        this.staleSinceAt = this.lastMessageAt;
                    }
                    // The connection is presumably dead (a blackhole does not close it).
                    this.abandon(`stale: no message for ${Math.round(silentMs)} ms`);
                }
            }
            this.view.update(this);
        }

        // What the status line says: exactly one of live, stale and reconnecting.
        status() {
            if (this.state !== 'live' || !this.book)
                return 'reconnecting';
            if (nowMs() - this.lastMessageAt > this.heartbeatMs * OverdueAfterHeartbeats)
                return 'stale';
            return 'live';
        }

        report(kind, fields = {}) {
            const event = { kind, timeUs: String(nowUs()) };
            if (fields.attempt)
                event.attempt = fields.attempt;
            if (fields.delayMs)
                event.delayMs = fields.delayMs;
            if (fields.reason)
                event.reason = fields.reason.slice(0, 200);
            if (fields.sequence)
                event.sequence = String(fields.sequence);
            this.telemetry.push(event);
            while (this.telemetry.length > TelemetryQueueMax)
                this.telemetry.shift();
        }

        flushTelemetry() {
            if (this.state !== 'live' || this.telemetry.length === 0)
                return;
            const events = this.telemetry.splice(0, TelemetryBatchMax);
            this.send({ telemetry: { events } });
        }

        setState(state) {
            this.state = state;
            this.view.update(this);
        }
    }

    // The page: markets as cards, the status line and the figures at the bottom.
    class View {
        constructor() {
            this.marketCount = marketCountFromQuery();
            this.statusLine = document.getElementById('status');
            this.detailLine = document.getElementById('status-detail');
            this.marketsRoot = document.getElementById('markets');
            this.info = document.getElementById('feed-info');
            this.cards = new Map();
            this.customDetail = '';
        }

        detail(text) {
            this.customDetail = text;
        }

        renderBook(book) {
            this.marketsRoot.replaceChildren();
            this.cards.clear();
            for (const market of book.markets.values()) {
                const card = document.createElement('section');
                card.className = 'market';
                this.cards.set(market.id, card);
                this.fillCard(book, market, card);
                this.marketsRoot.append(card);
            }
        }

        fillCard(book, market, card) {
            const event = book.events.get(market.eventId);
            card.dataset.marketId = market.id;
            card.dataset.status = StatusText[market.status] || 'unknown';
            const title = document.createElement('h2');
            title.textContent = event ? event.name : `Event ${market.eventId}`;
            const subtitle = document.createElement('p');
            subtitle.className = 'market-name';
            subtitle.textContent = market.name;
            const badge = document.createElement('span');
            badge.className = 'badge';
            badge.textContent = card.dataset.status;
            subtitle.append(' ', badge);
            const list = document.createElement('ul');
            list.className = 'selections';
            for (const s of market.selections) {
                const item = document.createElement('li');
                item.className = 'selection';
                item.dataset.selectionId = s.id;
                item.dataset.price = s.price;
                if (s.winner)
                    item.classList.add('winner');
                const name = document.createElement('span');
                name.className = 'name';
                name.textContent = s.name;
                const price = document.createElement('span');
                price.className = 'price';
                price.textContent = formatPrice(s.price);
                item.append(name, price);
                list.append(item);
            }
            card.replaceChildren(title, subtitle, list);
        }

        renderChange(book, touched) {
            const card = this.cards.get(touched.market.id);
            if (!card)
                return;
            if (touched.whole) {
                this.fillCard(book, touched.market, card);
                return;
            }
            const item = card.querySelector(`[data-selection-id="${touched.selection.id}"]`);
            if (!item)
                return;
            const price = touched.selection.price;
            item.dataset.price = price;
            item.querySelector('.price').textContent = formatPrice(price);
            // Blue when the price lengthened, pink when it shortened, as on the desk.
            item.classList.remove('up', 'down');
            void item.offsetWidth; // restarts the highlight when the same cell moves again
            item.classList.add(price > touched.before ? 'up' : 'down');
            clearTimeout(item.flashTimer);
            item.flashTimer = setTimeout(() => item.classList.remove('up', 'down'), FlashMs);
        }

        update(client) {
            const status = client.status();
            if (this.statusLine.dataset.status !== status) {
                this.statusLine.dataset.status = status;
                this.statusLine.textContent = status;
            }
            document.body.dataset.status = status;
            this.detailLine.textContent = this.describe(client, status);
            const info = this.info.dataset;
            info.sequence = client.lastSequence;
            info.epoch = client.epoch;
            info.session = client.sessionId;
            info.resumes = client.stats.resumes;
            info.fallbacks = client.stats.fallbacks;
            info.epochs = client.stats.epochs;
            info.reconnects = client.stats.reconnects;
            document.getElementById('info-session').textContent = client.sessionId || '\u2013';
            document.getElementById('info-sequence').textContent = client.lastSequence;
            document.getElementById('info-resumes').textContent = client.stats.resumes;
            document.getElementById('info-fallbacks').textContent = client.stats.fallbacks;
            document.getElementById('info-reconnects').textContent = client.stats.reconnects;
            document.getElementById('info-feed').textContent = client.url;
        }

        describe(client, status) {
            if (status === 'live')
                return client.stats.epochs > 0 && client.stats.fallbacks > 0
                    ? 'Prices are current. The feed restarted; its prices were read afresh.'
                    : 'Prices are current.';
            if (status === 'stale')
                return 'No word from the feed for a while: prices may be out of date.';
            if (client.state === 'backoff') {
                const seconds = Math.max(0, (client.reconnectAt - nowMs()) / 1000).toFixed(1);
                const said = this.customDetail ? ` ${this.customDetail}.` : '';
                return `Connection lost.${said} Attempt ${client.attempt} in ${seconds} s.`;
            }
            return client.book ? 'Connecting to the feed\u2026 Prices shown may be out of date.'
                : 'Connecting to the feed\u2026';
        }
    }

    async function main() {
        const view = new View();
        let feed;
        try {
            const answer = await fetch('feed.json', { cache: 'no-store' });
            feed = await answer.json();
        } catch (error) {
            view.detailLine.textContent
                = `Cannot ask the console where its feed is: ${error.message}`;
            return;
        }
        const url = new URL(feed.url);
        // A feed that listens on every address is reached under the name this page came by.
        if (['0.0.0.0', '[::]'].includes(url.hostname))
            url.hostname = location.hostname;
        const client = new FeedClient(url.toString().replace(/\/$/, ''), feed.version || '', view);
        window.oddsdeskFeed = client; // for people poking at it in the developer tools
        client.start();
    }

    main();
})();
