"""Greenlets: coroutines that switch explicitly, all inside one thread.

    python examples/greenlet_switch.py

Two greenlets hand control to each other with ``switch``. Nothing runs in parallel and
nothing preempts them: a greenlet runs until it switches away. gevent builds on this by
switching automatically whenever a socket would block.
"""

from __future__ import annotations

import threading

from greenlet import getcurrent, greenlet


def main() -> None:
    log: list[str] = []

    def ping(rounds: int) -> str:
        for n in range(1, rounds + 1):
            log.append(f"ping {n} in {threading.current_thread().name}")
            pong_greenlet.switch(n)  # 显式让出：把控制权（和值 n）交给 pong
        return "ping done"

    def pong(first: int) -> None:
        n = first
        while True:
            log.append(f"pong {n} (received {n} from ping)")
            n = ping_greenlet.switch()  # 回到 ping 暂停的地方，下次被切回来时拿到新的值

    ping_greenlet = greenlet(ping)
    pong_greenlet = greenlet(pong)
    # 从主 greenlet 切到 ping；ping 函数返回后，控制权回到它的父 greenlet（这里的主 greenlet）。
    result = ping_greenlet.switch(3)
    print("\n".join(log))
    print(f"ping returned {result!r}; ping dead: {ping_greenlet.dead}, "
          f"pong dead: {pong_greenlet.dead}")
    print(f"back in the main greenlet: {getcurrent().parent is None}")
    # pong 还停在 switch 处；丢弃它时 greenlet 会向它抛 GreenletExit 让它结束。
    pong_greenlet.throw()
    print(f"after throw, pong dead: {pong_greenlet.dead}")


if __name__ == "__main__":
    main()
