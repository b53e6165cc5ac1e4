#!/usr/bin/env python3
"""A TCP relay that adds a fixed latency to everything it passes on (test
tool: a far-away registry on loopback).

    delay_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS

Listens on 127.0.0.1:LISTEN_PORT and relays each connection to
127.0.0.1:UPSTREAM_PORT, bytes untouched (TLS passes through), every chunk
in either direction handed on DELAY_MS after it arrived, in order.  A
constant latency, not a throttle: chunks do not wait for one another's
delay.  Loopback only; runs until killed.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
    queue = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                break
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    task = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await task
    except (OSError, asyncio.CancelledError):
        task.cancel()
    finally:
        writer.close()


async def main():
    port, up, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000.0

    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", up)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, uw, delay), pipe(ur, cw, delay),
                             return_exceptions=True)

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
