"""MLflow in a process of its own, started beside the launching process (converter.cli.helpers_start).

Importing MLflow and opening its store take about 2 s, and logging a job about 0.1 s. In the
launching process they came after composing and checking the jobs, and after each job; a sweep
re-run from the cache spent a third of its time there. The writer overlaps them: it imports
MLflow while the launcher composes, and logs a job while the launcher goes on to the next.

Requests are JSON lines on the writer's stdin, carried out one at a time in the order sent, each
in the launcher's environment and working directory of the moment. `submit` does not wait; `call`
waits for its answer, and so for everything submitted before it. Every request is acknowledged on
a pipe of its own (the writer's stdout and stderr are the launcher's, so what it prints reads as
before). A writer that never started, or died, costs the overlap only: the requests it had not
acknowledged are carried out in the launching process, in order, as they were before it existed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

log = logging.getLogger("converter")
DRAIN = "drain"


# What the writer carries out (kept to the tracking layer's own functions). Arguments are JSON:
# a TrackingConfig travels as its fields, a Path as its text.
def _start_parent_run_or_report(tracking: Dict[str, Any], sweep_dir: str, sweep: str, experiment: str) -> None:
    from converter.tracking.sweep import start_parent_run_or_report

    start_parent_run_or_report(_tracking(tracking), Path(sweep_dir), sweep, experiment)


def _finish_parent_run(tracking: Dict[str, Any], sweep_dir: str, status: str) -> Optional[Dict[str, Any]]:
    from converter.tracking.sweep import finish_parent_run

    report = finish_parent_run(_tracking(tracking), Path(sweep_dir), status)
    return None if report is None else dataclasses.asdict(report)


def _log_and_record(
    tracking: Dict[str, Any], record: Dict, result: Dict, run_dir: str, experiment: str, extra_tags: Optional[Dict]
) -> None:
    from converter.tracking.job_run import log_and_record

    log_and_record(_tracking(tracking), record, result, Path(run_dir), experiment, extra_tags)


def _retag_fix_or_warn(tracking: Dict[str, Any], run_id: str, result: Dict) -> None:
    from converter.tracking.job_run import retag_fix_or_warn

    retag_fix_or_warn(_tracking(tracking), run_id, result)


def _nothing() -> None:
    """`drain`: an answer once everything sent before it is done."""


CALLS: Dict[str, Callable[..., Any]] = {
    "start_parent_run_or_report": _start_parent_run_or_report,
    "finish_parent_run": _finish_parent_run,
    "log_and_record": _log_and_record,
    "retag_fix_or_warn": _retag_fix_or_warn,
    DRAIN: _nothing,
}


def _tracking(fields: Dict[str, Any]) -> Any:
    from converter.config.schema import TrackingConfig

    return TrackingConfig(**fields)


def carry_out(request: Dict[str, Any]) -> Dict[str, Any]:
    """One request, in the environment, working directory and log level it was sent from: its answer."""
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    logging.getLogger("converter").setLevel(request["log_level"])
    try:
        return {"id": request["id"], "value": CALLS[request["call"]](**request["kwargs"])}
    except Exception as exc:  # noqa: BLE001 (the launcher raises it where it waits, or warns)
        from converter.errors import one_line

        return {"id": request["id"], "error": one_line(exc)}


class WriterError(RuntimeError):
    """What a request raised in the writer (its type and message, on one line)."""


class Writer:
    """The launching process's end: a spawned writer, its answer reader, and what is unacknowledged."""

    def __init__(self) -> None:
        answers, answer_end = os.pipe()
        self.owner = os.getpid()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "converter.tracking.writer", str(answer_end)],
            stdin=subprocess.PIPE,
            pass_fds=(answer_end,),
            process_group=0,  # the terminal's Ctrl-C goes to the launcher, which then closes the pipe
        )
        os.close(answer_end)
        self._sending = threading.Lock()  # one request on the pipe at a time, in id order
        self._lock = threading.Lock()  # the state below, shared with the reader
        self._answered = threading.Condition(self._lock)
        self._unanswered: Dict[int, Tuple[str, Dict[str, Any]]] = {}  # in the order sent
        self._answers: Dict[int, Dict[str, Any]] = {}
        self._waited: set = set()
        self._next_id = 0
        self.alive = True
        self._reader = threading.Thread(
            target=self._read, args=(os.fdopen(answers, "rb"),), daemon=True, name="converter-tracking-writer"
        )
        self._reader.start()

    def _read(self, answers: Any) -> None:
        for line in answers:
            answer = json.loads(line)
            with self._lock:
                sent = self._unanswered.pop(answer["id"], None)
                if answer["id"] in self._waited:
                    self._answers[answer["id"]] = answer
                elif sent is not None and "error" in answer:
                    log.warning("MLflow (%s): %s", sent[0], answer["error"])
                self._answered.notify_all()
        answers.close()
        with self._lock:
            self.alive = False
            self._answered.notify_all()

    def send(self, call: str, kwargs: Dict[str, Any], wait: bool) -> Any:
        with self._sending:
            with self._lock:
                if not self.alive:
                    self._take_over()
                    return CALLS[call](**kwargs)
                if call == DRAIN and not self._unanswered:
                    return None  # nothing to wait for (not even MLflow's import, if nothing was sent)
                number, self._next_id = self._next_id, self._next_id + 1
                self._unanswered[number] = (call, kwargs)
                if wait:
                    self._waited.add(number)
            request = {
                "id": number,
                "call": call,
                "kwargs": kwargs,
                "env": dict(os.environ),
                "cwd": os.getcwd(),
                "log_level": logging.getLogger("converter").getEffectiveLevel(),
            }
            try:  # outside the state lock: a full pipe waits for the writer, whose answers are still read
                self.process.stdin.write((json.dumps(request) + "\n").encode())
                self.process.stdin.flush()
            except OSError:  # the writer is gone (EPIPE): the reader sees its end of file too
                pass
        with self._lock:
            while wait and self.alive and number not in self._answers:
                self._answered.wait()
            if not wait:
                return None
            self._waited.discard(number)
            if number in self._answers:
                answer = self._answers.pop(number)
                if "error" in answer:
                    raise WriterError(answer["error"])
                return answer["value"]
            return self._take_over(number)

    def _take_over(self, waited_for: Optional[int] = None) -> Any:
        """The writer is gone: carry out what it had not acknowledged, here and in order (the lock held)."""
        value = None
        pending, self._unanswered = list(self._unanswered.items()), {}
        self._waited.clear()
        for number, (call, kwargs) in pending:
            if number == waited_for:
                value = CALLS[call](**kwargs)
                continue
            try:
                CALLS[call](**kwargs)
            except Exception as exc:  # noqa: BLE001 (nobody waits for it: warn, as the writer would)
                log.warning("MLflow (%s): %s", call, exc)
        return value

    def close(self, timeout_s: float = 60.0) -> None:
        """Finish what was sent, then end the writer (its stdin closes: it exits). One that was
        never sent anything (a config error, tracking off in a YAML) is ended at once."""
        if self._next_id == 0:
            self._end()
        self.send(DRAIN, {}, wait=True)
        try:
            self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._end()
        self._reader.join(timeout_s)

    def _end(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()


_writer: Optional[Writer] = None


def start() -> None:
    """Start the writer (once per process): before composing, so MLflow's import overlaps it."""
    global _writer
    if _writer is None or _writer.owner != os.getpid():
        _writer = Writer()


def submit(call: str, **kwargs: Any) -> None:
    """Carry out `call` in the writer, without waiting; here at once when there is no writer."""
    _send(call, kwargs, wait=False)


def call(call: str, **kwargs: Any) -> Any:
    """Carry out `call` (after everything submitted before it) and return its answer; raises what it raised."""
    return _send(call, kwargs, wait=True)


def drain() -> None:
    """Wait until everything submitted so far is done (each job's tracking.json written)."""
    call(DRAIN)


def _send(name: str, kwargs: Dict[str, Any], wait: bool) -> Any:
    if _writer is None or _writer.owner != os.getpid():  # none started, or a worker process of the launcher
        return CALLS[name](**kwargs)
    return _writer.send(name, kwargs, wait)


def close() -> None:
    """Finish and end the writer, if this process started one (before the launcher exits)."""
    global _writer
    if _writer is not None and _writer.owner == os.getpid():
        writer, _writer = _writer, None
        writer.close()


def tracking_fields(tracking: Any) -> Dict[str, Any]:
    """A TrackingConfig as a request carries it."""
    return dataclasses.asdict(tracking)


def _serve(reply_fd: int) -> None:
    """The writer's loop: import MLflow and its SQL store first (the point of starting early),
    then carry out requests until stdin closes."""
    logging.basicConfig(format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s", stream=sys.stdout)
    import mlflow.store.tracking.sqlalchemy_store  # noqa: F401
    import mlflow.tracking  # noqa: F401

    replies = os.fdopen(reply_fd, "w")
    for line in sys.stdin:
        request = json.loads(line)
        answer = carry_out(request)
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(answer) + "\n")
        replies.flush()


def main(argv: List[str]) -> None:
    _serve(int(argv[0]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # MLflow's thousands of modules need no freeing on the way out (about 1 s)


if __name__ == "__main__":
    main(sys.argv[1:])
