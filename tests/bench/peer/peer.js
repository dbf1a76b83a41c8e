'use strict';
// The benchmark's peer: what a team would otherwise pick, a Node.js server on the ws package,
// doing the same fan-out of the same encoded frames to the same load generator.
//
// It is one client of an OddsDesk feed (upstream) and a feed server of its own (downstream):
// every frame the feed sends it (snapshot parts, deltas) goes to every downstream session as
// the very bytes it received, except that the deltas that came during one pass over the
// sessions go out as one. Each downstream session gets its own welcome, the latest
// snapshot the feed gave it with the deltas since, then every delta (a fresh snapshot is
// fetched over a second, short-lived session whenever fifty deltas have gone by); its acks
// and telemetry are decoded (as OddsDesk decodes them) and a heartbeat goes out every two
// seconds. Resumes are answered
// with a fresh start (resumed: false). Its delivery latency includes one loopback hop more
// than OddsDesk's: the feed's frame reaches it before it reaches the fleet.
//
//   node peer.js ws://127.0.0.1:UPSTREAM_PORT LISTEN_PORT
// prints "listening on ws://127.0.0.1:PORT" once it has the snapshot and listens.

const path = require('path');
const crypto = require('crypto');
const protobuf = require('protobufjs');
const { WebSocket, WebSocketServer } = require('ws');

const [upstreamUrl, portArg] = process.argv.slice(2);
if (!upstreamUrl) {
  console.error('usage: node peer.js ws://127.0.0.1:PORT [LISTEN_PORT]');
  process.exit(2);
}
const HeartbeatMs = 2000;
const Subprotocol = 'oddsdesk.v1+proto';

const root = protobuf.loadSync(
  path.join(__dirname, '..', '..', '..', 'engine', 'proto', 'oddsdesk', 'v1', 'feed.proto'));
const ServerMessage = root.lookupType('oddsdesk.v1.ServerMessage');
const ClientMessage = root.lookupType('oddsdesk.v1.ClientMessage');

// The same monotonic clock as the feed and the fleet (CLOCK_MONOTONIC), in microseconds.
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

let epoch = '';
let snapshotSequence = 0;
let snapshot = []; // the parts, as received
let pendingParts = [];
const sinceSnapshot = []; // every delta since the snapshot, as received
let head = 0;
const live = new Set();
let server = null;

const upstream = new WebSocket(upstreamUrl, Subprotocol);
upstream.binaryType = 'nodebuffer';
upstream.on('open', () => {
  upstream.send(ClientMessage.encode({ hello: { protocolVersion: 1, clientName: 'ws-peer' } })
    .finish());
});
upstream.on('message', (data) => {
  const message = ServerMessage.decode(data);
  if (message.welcome) {
    epoch = message.welcome.epoch;
  } else if (message.snapshot) {
    pendingParts.push(data);
    if (message.snapshot.last) {
      snapshot = pendingParts;
      pendingParts = [];
      snapshotSequence = Number(message.snapshot.sequence);
      head = snapshotSequence;
      ack(head);
      if (!server)
        listen();
    }
  } else if (message.delta) {
    head = Number(message.delta.toSequence);
    const from = Number(message.delta.fromSequence);
    // A snapshot fetched on the side may already hold it.
    if (head > snapshotSequence)
      sinceSnapshot.push({ from, data });
    pending.push({ from, to: head, delta: message.delta, data });
    ack(head);
    if (!passing)
      startPass();
    if (sinceSnapshot.length > 50)
      refreshSnapshot();
  }
});

// The fan-out goes in passes. A pass takes every delta that came since the last one, as one
// delta (their changes one after the other, encoded once), and sends it to each session, a
// slice of sessions per turn of the event loop. Node's libuv accepts one connection per turn:
// sending to every session in one turn left the peer a few dozen turns a second, and it
// welcomed fewer than 2,000 of 5,000 sessions before the rest gave up waiting. Deltas are
// acknowledged upstream as they come, so that the feed never holds the peer back: a snapshot
// fetched on the side must not be ahead of them.
const SliceSessions = 50;
let pending = [];
let passing = false;
function startPass() {
  if (!pending.length) {
    passing = false;
    return;
  }
  passing = true;
  const deltas = pending;
  pending = [];
  const first = deltas[0];
  const last = deltas[deltas.length - 1];
  const merged = deltas.length === 1 ? first.data : ServerMessage.encode({
    delta: {
      fromSequence: first.from,
      toSequence: last.to,
      commitTimeUs: first.delta.commitTimeUs,
      changes: deltas.flatMap((d) => d.delta.changes),
    },
  }).finish();
  const pass = { deltas, merged, sockets: Array.from(live), next: 0 };
  setImmediate(() => continuePass(pass));
}

function continuePass(pass) {
  const end = Math.min(pass.next + SliceSessions, pass.sockets.length);
  const from = pass.deltas[0].from;
  for (let i = pass.next; i < end; ++i) {
    const socket = pass.sockets[i];
    if (!live.has(socket))
      continue;
    if (socket.baseline < from) {
      socket.send(pass.merged, { binary: true });
      continue;
    }
    // Welcomed while these deltas came: only those after what its welcome held.
    for (const delta of pass.deltas) {
      if (delta.to > socket.baseline)
        socket.send(delta.data, { binary: true });
    }
  }
  pass.next = end;
  if (end < pass.sockets.length) {
    setImmediate(() => continuePass(pass));
    return;
  }
  startPass();
}

// A newcomer should not be sent a long history: take a fresh snapshot now and then.
let refreshing = false;
function refreshSnapshot() {
  if (refreshing)
    return;
  refreshing = true;
  const parts = [];
  const side = new WebSocket(upstreamUrl, Subprotocol);
  side.binaryType = 'nodebuffer';
  side.on('open', () => {
    side.send(ClientMessage.encode({ hello: { protocolVersion: 1, clientName: 'ws-peer-snap' } })
      .finish());
  });
  side.on('message', (data) => {
    const message = ServerMessage.decode(data);
    if (!message.snapshot)
      return;
    parts.push(data);
    if (!message.snapshot.last)
      return;
    const sequence = Number(message.snapshot.sequence);
    if (sequence >= snapshotSequence) {
      snapshot = parts;
      snapshotSequence = sequence;
      while (sinceSnapshot.length && sinceSnapshot[0].from <= sequence)
        sinceSnapshot.shift();
    }
    side.close();
  });
  side.on('close', () => { refreshing = false; });
  side.on('error', () => { refreshing = false; });
}
upstream.on('close', () => process.exit(0));
upstream.on('error', (error) => {
  console.error('peer: upstream: ' + error.message);
  process.exit(1);
});

function ack(sequence) {
  upstream.send(ClientMessage.encode({ ack: { sequence, receiveTimeUs: nowUs() } }).finish());
}

function welcome(socket) {
  socket.send(ServerMessage.encode({
    welcome: {
      sessionId: crypto.randomBytes(8).toString('hex'),
      resumeToken: crypto.randomBytes(16).toString('hex'),
      epoch,
      heartbeatIntervalMs: HeartbeatMs,
      resumed: false,
      headSequence: snapshotSequence,
      protocolVersion: 1,
      serverTimeUs: nowUs(),
    },
  }).finish(), { binary: true });
  for (const part of snapshot)
    socket.send(part, { binary: true });
  for (const delta of sinceSnapshot)
    socket.send(delta.data, { binary: true });
  socket.baseline = Math.max(head, snapshotSequence);
  live.add(socket);
}

function listen() {
  server = new WebSocketServer({
    host: '127.0.0.1',
    port: Number(portArg || 0),
    backlog: 4096,
    handleProtocols: (protocols) => (protocols.has(Subprotocol) ? Subprotocol : false),
  });
  server.on('connection', (socket) => {
    socket.binaryType = 'nodebuffer';
    socket.lastAcked = 0;
    socket.on('message', (data) => {
      let message;
      try {
        message = ClientMessage.decode(data);
      } catch (error) {
        socket.close(1007, 'bad message');
        return;
      }
      if (message.hello && !live.has(socket))
        welcome(socket);
      else if (message.ack)
        socket.lastAcked = Number(message.ack.sequence);
    });
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => live.delete(socket));
  });
  server.on('listening', () => {
    console.log('listening on ws://127.0.0.1:' + server.address().port);
  });
  setInterval(() => {
    const beat = ServerMessage.encode({
      heartbeat: { headSequence: head, serverTimeUs: nowUs(), serverWallTimeMs: Date.now() },
    }).finish();
    for (const socket of live)
      socket.send(beat, { binary: true });
  }, HeartbeatMs);
}

// Bounded: the benchmark stops it, and it stops by itself after an hour whatever happens.
setTimeout(() => process.exit(0), 60 * 60 * 1000).unref();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
