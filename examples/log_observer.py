"""A minimal twisted.logger observer that prints one line per event, without timestamps.

Shared by the examples that show what Twisted logs (an exception in a reactor callback, an
unhandled error in a Deferred), so that their output is short and stable enough to check.
"""

from __future__ import annotations

from twisted.logger import ILogObserver, LogEvent, formatEvent, globalLogBeginner
from zope.interface import provider


@provider(ILogObserver)  # declares that this function is a log observer
def print_log_event(event: LogEvent) -> None:
    """Print the event's message, plus the error of a logged failure."""
    text = formatEvent(event)
    failure = event.get("log_failure")
    if failure is not None:
        text = f"{text} {failure.type.__name__}: {failure.getErrorMessage()}".strip()
    print(f"[log] {text}")


def log_to_stdout() -> None:
    # 日志观察者就是一个接收事件字典的函数；beginLoggingTo 之前的事件会被缓存，之后一并交给它。
    globalLogBeginner.beginLoggingTo([print_log_event], redirectStandardIO=False)
