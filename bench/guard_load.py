"""The guard benchmark's load generator and its payloads: closed-loop workers on fenghuo's lean
HTTP/1.1 pool, single-turn prompts never sent before, chat histories of a given size and a
conversation's next turns."""

from __future__ import annotations

import asyncio
import json
import time

PAYLOAD = {"model": "bench-model", "messages": [{"role": "user", "content": "你好，请简单介绍一下你自己。"}], "max_tokens": 16}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    k = (len(xs) - 1) * q
    f = int(k)
    c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


SENTENCES = ["我想了解一下这个城市的公共交通情况。", "请帮我把下面这段话翻译成英文。", "今天天气不错，我们计划周末去公园散步。",
             "这份报告的第三部分需要补充一些数据。", "Could you summarise the main points of the meeting?",
             "我是一个人工智能助手，可以回答问题、提供信息和帮助完成各种任务。", "项目进度比预期慢了两周，主要原因是需求变更。",
             "请推荐几本适合初学者的编程书籍。", "The quarterly figures look stable compared with last year.",
             "会议改到下午三点，请通知其他同事。", "我们需要在月底前完成系统的测试工作。", "这道菜需要先把土豆切成小块，再放入锅中翻炒。"]


def conversation(kb: int, seed: int = 0) -> list[dict]:
    """A chat history of about ``kb`` KB (UTF-8) of ordinary turns, user and assistant in turn:
    what a chat client resends with each call."""
    import random

    rnd, msgs, size = random.Random(seed), [], 0
    while size < kb * 1024:
        text = "".join(rnd.choice(SENTENCES) for _ in range(8))
        msgs.append({"role": "assistant" if len(msgs) % 2 else "user", "content": text})
        size += len(text.encode())
    return msgs


def distinct(payload: dict, count: int, tag: str = "") -> list[dict]:
    """``count`` copies of ``payload`` whose first message differs in each (a never-seen text
    every call: nothing the gateway checked before is reused)."""
    out = []
    for i in range(count):
        msgs = [dict(m) for m in payload["messages"]]
        msgs[0]["content"] = f"[{tag}{i}] " + msgs[0]["content"]
        out.append({**payload, "messages": msgs})
    return out


def next_turns(kb: int, count: int, chats: int = 4, tag: str = "") -> list[dict]:
    """Requests of ``chats`` conversations in turn, each request its conversation's previous one
    plus a model answer and a new question (≈ 240 bytes): what a chat client sends on its next
    turn, with a history of ``kb`` KB at the start."""
    import random

    rnd, out = random.Random(7), []
    hist = [conversation(kb, seed=100 + c) for c in range(chats)]
    for c, h in enumerate(hist):  # a tag of its own: conversations of another run are not these
        h[0] = {**h[0], "content": f"[{tag}{c}] " + h[0]["content"]}
    for i in range(count):
        h = hist[i % chats]
        h += [{"role": "assistant", "content": "".join(rnd.choice(SENTENCES) for _ in range(3))},
              {"role": "user", "content": rnd.choice(SENTENCES)}]
        out.append({**PAYLOAD, "messages": list(h)})
    return out


async def load(url: str, conc: int, n: int, warmup: int, stream: bool = False, payload: dict | list | None = None) -> dict:
    """Closed loop: ``conc`` workers, one request at a time each, on keep-alive connections.

    ``payload``: one request body, or a list sent in turn (one per request: distinct prompts, so
    the gateway's verdict cache for repeated texts is not what is measured).

    The client is fenghuo's own lean HTTP/1.1 pool (``fenghuo.guard.http1``, ≈ 13 µs of CPU per
    request against aiohttp's ≈ 55 µs and httpx's 1–2 ms): on two cores shared by the load
    generator, the upstream and the gateway, every microsecond the generator spends is taken
    from the process being measured, and shows up as its tail latency. The same client drives
    the direct baseline, so the comparison stays like for like."""
    from fenghuo.guard.http1 import ConnectionPool

    payloads = payload if isinstance(payload, list) else [payload or PAYLOAD]
    bodies = [json.dumps({**p, "stream": True} if stream else p).encode() for p in payloads]
    sent = 0  # a list of payloads: request k (warm-up included) sends payloads[k % len]
    hdr = {"Content-Type": "application/json"}
    base, _, path = url.partition("/v1")
    pool = ConnectionPool(base, max_connections=conc)

    async def run(count: int) -> tuple[list[float], int, float]:
        lat: list[float] = []
        errs = 0
        it = iter(range(count))

        async def worker() -> None:
            nonlocal errs, sent
            for _ in it:
                body, sent = bodies[sent % len(bodies)], sent + 1
                t0 = time.perf_counter()
                async with pool.request("POST", "/v1" + path, hdr, body) as r:
                    data = await r.read()
                    ok = r.status == 200 and (not stream or data.endswith(b"[DONE]\n\n"))
                if ok:
                    lat.append((time.perf_counter() - t0) * 1000)
                else:
                    errs += 1
        t0 = time.perf_counter()
        await asyncio.gather(*[worker() for _ in range(conc)])
        return lat, errs, time.perf_counter() - t0

    await run(warmup)
    lat, errs, wall = await run(n)
    await pool.aclose()
    return {"p50": pct(lat, 0.5), "p99": pct(lat, 0.99), "rps": len(lat) / wall, "errors": errs, "n": n}


_TAGS = iter(range(1 << 30))


def fresh(count: int) -> list[dict]:
    """Distinct single-turn prompts for one run (never sent before in this benchmark)."""
    return distinct(PAYLOAD, count, f"{next(_TAGS)}-")


