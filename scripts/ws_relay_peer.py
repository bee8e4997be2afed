#!/usr/bin/env python3
"""A WebSocket chat relay we did not write the protocol side of: a peer for testing clients.

Every text message a client sends is relayed, as one text message, to every *other* connected
client (binary messages are ignored). It runs on the `websockets` package (installed with pip if
missing), serves any request path, and listens on loopback only. With --cert and --key it speaks
wss. It stops by itself after --lifetime seconds (default 600), or on SIGINT/SIGTERM.

    python3 scripts/ws_relay_peer.py --port 21080 &
    .build/tools/chatbench fanout --port 21080 --ws /chat --conns 50 --senders 5 --msgs 100

Prints `ws_relay_peer listening on HOST:PORT` on stdout once it accepts connections; at exit,
`ws_relay_peer exiting relayed=N`.
"""
import argparse
import asyncio
import ipaddress
import signal
import ssl
import subprocess
import sys


def require_websockets():
    try:
        import websockets  # noqa: F401
    except ImportError:
        print("ws_relay_peer: installing websockets (pip)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "websockets"], check=True)


async def serve(args):
    from websockets.asyncio.server import broadcast, serve as ws_serve

    clients = set()
    relayed = 0

    async def handler(ws):
        nonlocal relayed
        clients.add(ws)
        try:
            async for message in ws:
                if isinstance(message, str):
                    others = [c for c in clients if c is not ws]
                    broadcast(others, message)
                    relayed += len(others)
        except Exception:  # a client that resets is just gone
            pass
        finally:
            clients.discard(ws)

    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.cert, args.key)

    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with ws_serve(handler, args.host, args.port, ssl=context, max_size=1 << 20,
                        compression=None, backlog=4096):
        print(f"ws_relay_peer listening on {args.host}:{args.port}", flush=True)
        try:
            await asyncio.wait_for(stop, timeout=args.lifetime)
        except asyncio.TimeoutError:
            pass
    print(f"ws_relay_peer exiting relayed={relayed}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (127.0.0.0/8)")
    parser.add_argument("--port", type=int, default=21080)
    parser.add_argument("--cert", help="PEM certificate chain: serve wss")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--lifetime", type=float, default=600, help="seconds before it stops by itself")
    args = parser.parse_args()
    if not ipaddress.ip_address(args.host) in ipaddress.ip_network("127.0.0.0/8"):
        parser.error("--host must be a loopback address (127.0.0.0/8)")
    if bool(args.cert) != bool(args.key):
        parser.error("--cert and --key go together")
    require_websockets()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
