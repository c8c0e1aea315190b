#!/usr/bin/env python3
# asyncio_echo.py -- reference: a Python asyncio echo server (Protocol API)
#
# usage: asyncio_echo.py PORT
#
# The Protocol form, the fastest asyncio offers: data_received writes the
# bytes straight back.  asyncio sets TCP_NODELAY on its connections.
import asyncio
import resource
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1])))
