"""The blocking client's code, made concurrent by gevent's monkey-patching.

    python examples/gevent_client.py

``monkey.patch_all()`` swaps the standard socket module for a cooperative one: a ``recv``
that would block switches to another greenlet instead. The unchanged ``get_poetry`` from
blocking_client.py then downloads all poems at the same time, in one thread.
``gevent.joinall(timeout=…)`` does not raise when the time is up: it returns the greenlets
that finished, so the program compares that with the ones it started.
"""

from gevent import monkey

# 必须在导入任何使用 socket 的模块之前打补丁，否则它们拿到的仍是原来的阻塞 socket。
monkey.patch_all()

import time  # noqa: E402

import gevent  # noqa: E402
from blocking_client import get_poetry, title  # noqa: E402
from slow_servers import slow_servers  # noqa: E402


def main() -> None:
    with slow_servers(count=3) as addresses:
        started = time.monotonic()
        # 每首诗一个 greenlet；某个 greenlet 的 recv 要等待时，gevent 的事件循环（libev/libuv）
        # 切换到另一个已就绪的 greenlet。
        jobs = [gevent.spawn(get_poetry, address) for address in addresses]
        # joinall(timeout=…) 到时并不报错：它悄悄返回已经结束的那些 greenlet，其余的还在跑。
        early = gevent.joinall(jobs, timeout=0.1)
        print(f"joinall(timeout=0.1) returned quietly: {len(early)} of {len(jobs)} finished")
        done = gevent.joinall(jobs, timeout=30, raise_error=True)
        if len(done) < len(jobs):  # 所以要自己核对，否则下面会拿着 None 当诗用
            gevent.killall(jobs)
            raise TimeoutError(f"{len(jobs) - len(done)} poems not downloaded within 30 s")
        for number, job in enumerate(jobs, start=1):
            print(f"poem {number} 《{title(job.value)}》: {len(job.value)} bytes")
        print(f"gevent client: {len(jobs)} poems in {time.monotonic() - started:.2f} s")
        print(f"socket module patched: {monkey.is_module_patched('socket')}")


if __name__ == "__main__":
    main()
