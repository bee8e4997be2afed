#!/usr/bin/env python3
"""A WebSocket server made with Python's `websockets`, a peer we did not write, for the
UVLoopWebSocket client tests. Listens on 127.0.0.1 (port 0), prints `port N`, and serves:

  /echo          sends every message back
  /close         after the first message, closes with 4001 "done"
  /ping          sends a ping with payload "are you there" and reports the pong as a text
                 message "pong: ..." before echoing
  /bad-utf8      sends a text frame that is not UTF-8 (the client must close with 1007)

It exits when its standard input closes, or after 60 s, whichever is first.
"""
import asyncio
import sys

from websockets.asyncio.server import serve
from websockets.frames import Frame, Opcode


async def handler(ws):
    path = ws.request.path
    if path == "/close":
        await ws.recv()
        await ws.close(4001, "done")
        return
    if path == "/ping":
        waiter = await ws.ping(b"are you there")
        latency = await asyncio.wait_for(waiter, 5)
        await ws.send(f"pong: {latency >= 0}")
    if path == "/bad-utf8":
        await ws.recv()
        # Bypass the library's encoder to put invalid UTF-8 on the wire.
        ws.protocol.send_frame(Frame(Opcode.TEXT, b"\xce\xba\xff"))
        ws.send_data()  # noqa: the protocol object's queued bytes go out here
        await asyncio.sleep(2)
        return
    async for message in ws:
        await ws.send(message)


async def main():
    compression = None if "--no-compression" in sys.argv else "deflate"
    async with serve(handler, "127.0.0.1", 0, compression=compression, max_size=32 * 1024 * 1024) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"port {port}", flush=True)
        loop = asyncio.get_running_loop()
        stdin_closed = loop.run_in_executor(None, sys.stdin.read)
        await asyncio.wait_for(stdin_closed, 60)


try:
    asyncio.run(main())
except (asyncio.TimeoutError, KeyboardInterrupt):
    pass
