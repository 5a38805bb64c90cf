"""A stand-in for a judge behind an OpenAI-compatible endpoint (vLLM), for the benchmarks: it
answers "1" to every chat completion after `--latency` seconds, at most `--slots` calls at a time
(more wait for a slot, as a loaded judge queues them): its capacity is slots / latency calls/s.
`--hang` accepts connections and never answers. asyncio on raw sockets, so that the stand-in
costs little CPU next to the server under test. Runs until killed; started and stopped by PID by
the benchmarks that use it (bench_judge_outage.py, bench_serve_faults.py).

    python benchmarks/standin_judge.py --port 8001 --latency 0.5 --slots 256
"""

from __future__ import annotations

import argparse
import asyncio
import json

BODY = json.dumps(
    {
        "id": "x",
        "object": "chat.completion",
        "created": 0,
        "model": "judge",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "1"}}],
    }
).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


async def serve(port: int, latency: float, slots: int, hang: bool) -> None:
    slot = asyncio.Semaphore(slots)

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive, as vLLM; ends when the client closes
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                if hang:
                    await asyncio.Event().wait()  # never answers
                async with slot:
                    await asyncio.sleep(latency)
                writer.write(ANSWER)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(connection, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--latency", type=float, default=0.02, help="seconds per call, once it has a slot")
    ap.add_argument("--slots", type=int, default=1_000_000, help="calls answered at a time")
    ap.add_argument("--hang", action="store_true", help="accept calls, never answer")
    args = ap.parse_args()
    asyncio.run(serve(args.port, args.latency, args.slots, args.hang))


if __name__ == "__main__":
    main()
