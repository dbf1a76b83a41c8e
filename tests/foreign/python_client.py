#!/usr/bin/python3
"""A feed client that shares no code with OddsDesk: Python's websockets library and the
.proto compiled for Python. It checks that a stranger's client understands the feed.

usage: python_client.py URL json|binary PROTO_PY_DIR [--expect-events N --expect-markets N]
                        [--first-match "Home v Away" --first-1x2 1.57,3.90,7.50
                         --first-ou 2.03,1.79] [--deltas N]

Prints one JSON object with what it saw; exits non-zero if an expectation fails.
"""

import argparse
import asyncio
import json
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("mode", choices=["json", "binary"])
    parser.add_argument("proto_dir")
    parser.add_argument("--expect-events", type=int)
    parser.add_argument("--expect-markets", type=int)
    parser.add_argument("--first-match")
    parser.add_argument("--first-1x2")
    parser.add_argument("--first-ou")
    parser.add_argument("--deltas", type=int, default=0,
                        help="wait for this many deltas, checking their sequences")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

    sys.path.insert(0, args.proto_dir)
    from oddsdesk.v1 import feed_pb2  # noqa: E402 (generated at build time)
    from google.protobuf import json_format  # noqa: E402
    import websockets  # noqa: E402

    subprotocol = "oddsdesk.v1+json" if args.mode == "json" else "oddsdesk.v1+proto"

    def encode(message):
        if args.mode == "json":
            return json_format.MessageToJson(message, indent=None)
        return message.SerializeToString()

    def decode(frame):
        message = feed_pb2.ServerMessage()
        if args.mode == "json":
            if not isinstance(frame, str):
                raise SystemExit("binary frame on the JSON subprotocol")
            json_format.Parse(frame, message, ignore_unknown_fields=True)
        else:
            if not isinstance(frame, bytes):
                raise SystemExit("text frame on the binary subprotocol")
            message.ParseFromString(frame)
        return message

    async def run():
        report = {"subprotocol": None, "events": 0, "markets": 0, "deltas": 0}
        async with websockets.connect(args.url, subprotocols=[subprotocol],
                                      max_size=16 * 1024 * 1024) as ws:
            report["subprotocol"] = ws.subprotocol
            hello = feed_pb2.ClientMessage()
            hello.hello.protocol_version = 1
            hello.hello.client_name = "python-websockets"
            await ws.send(encode(hello))

            events, markets = {}, {}
            sequence = None
            deadline = time.monotonic() + args.timeout
            while True:
                frame = await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
                message = decode(frame)
                kind = message.WhichOneof("body")
                if kind == "welcome":
                    report["session"] = message.welcome.session_id
                    report["resumed"] = message.welcome.resumed
                elif kind == "snapshot":
                    for e in message.snapshot.events:
                        events[e.id] = e
                    for m in message.snapshot.markets:
                        markets[m.id] = m
                    if message.snapshot.last:
                        sequence = message.snapshot.sequence
                        ack = feed_pb2.ClientMessage()
                        ack.ack.sequence = sequence
                        ack.ack.receive_time_us = time.monotonic_ns() // 1000
                        await ws.send(encode(ack))
                        if args.deltas == 0:
                            break
                elif kind == "delta":
                    if sequence is None:
                        raise SystemExit("delta before the snapshot")
                    if message.delta.from_sequence != sequence + 1:
                        raise SystemExit("gap: expected %d, got %d"
                                         % (sequence + 1, message.delta.from_sequence))
                    sequence = message.delta.to_sequence
                    report["deltas"] += 1
                    ack = feed_pb2.ClientMessage()
                    ack.ack.sequence = sequence
                    ack.ack.receive_time_us = time.monotonic_ns() // 1000
                    await ws.send(encode(ack))
                    if report["deltas"] >= args.deltas:
                        break
                elif kind == "error":
                    raise SystemExit("server error: " + message.error.message)

            report["events"] = len(events)
            report["markets"] = len(markets)
            report["sequence"] = sequence
            if markets:
                first_event = min(events.values(), key=lambda e: e.id)
                report["first_event"] = first_event.name
                by_kind = {m.kind: m for m in markets.values() if m.event_id == first_event.id}
                for kind_name, key in (("1x2", "first_1x2"), ("ou25", "first_ou")):
                    if kind_name in by_kind:
                        report[key] = ",".join("%.2f" % (s.price / 100.0)
                                               for s in by_kind[kind_name].selections)
        return report

    report = asyncio.run(run())
    print(json.dumps(report))

    failures = []
    if args.expect_events is not None and report["events"] != args.expect_events:
        failures.append("events %d, expected %d" % (report["events"], args.expect_events))
    if args.expect_markets is not None and report["markets"] != args.expect_markets:
        failures.append("markets %d, expected %d" % (report["markets"], args.expect_markets))
    if args.first_match and report.get("first_event") != args.first_match:
        failures.append("first event %r" % report.get("first_event"))
    if args.first_1x2 and report.get("first_1x2") != args.first_1x2:
        failures.append("first 1x2 %r" % report.get("first_1x2"))
    if args.first_ou and report.get("first_ou") != args.first_ou:
        failures.append("first o/u %r" % report.get("first_ou"))
    if report["subprotocol"] != subprotocol:
        failures.append("subprotocol %r" % report["subprotocol"])
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
