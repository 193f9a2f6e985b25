"""One SparkSession per process, started on first use, quiet, and cleaned up at exit.

Spark is optional (``pip install 'movierec[spark]'``) and needs Java 17 or newer; without
either, :func:`spark_session` is a one-line MovieRecError saying what to install. The JVM's
settings are fixed when it starts, so everything it needs is set here: logging at ERROR (Spark
prints its "Setting default log level" banner unless the root and ``org.apache.spark`` loggers
share one level; a failed task's own lines, a stack trace among them, are off: the failure
reaches the driver as an exception, which movierec words in one line), no console progress
bars, few shuffle partitions on a local master, a checkpoint folder (long ALS runs truncate
their lineage there) in a temporary folder movierec owns and removes.

Spark's own output never reaches the terminal: the JVM (and every process it starts) writes its
stdout and stderr to a log file, kept and named in movierec's one line when Spark fails to
start, removed otherwise. The master URL and the driver memory are checked before the JVM
starts, so a mistyped one is a one-line error at once.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from ..errors import MovieRecError

DEFAULT_MASTER = "local[2]"
DRIVER_MEMORY_ENV = "MOVIEREC_SPARK_DRIVER_MEMORY"
DEFAULT_DRIVER_MEMORY = "2g"
INSTALL = "pip install 'movierec[spark]'"

_LOG_CONFIG = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n
logger.spark.name = org.apache.spark
logger.spark.level = error
logger.tasks.name = org.apache.spark.scheduler.TaskSetManager
logger.tasks.level = fatal
logger.executor.name = org.apache.spark.executor.Executor
logger.executor.level = fatal
"""

_state: dict[str, Any] = {}


def require_spark() -> None:
    """MovieRecError, in one line, when pyspark or Java is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise MovieRecError(f"the Spark engine needs pyspark: {INSTALL}") from None
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home, "bin", "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise MovieRecError(
            "the Spark engine needs Java 17 or newer: install it (Debian/Ubuntu: apt-get install "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )


_MASTER = re.compile(
    r"local(\[(\*|\d+)(,\d+)?\])?|local-cluster\[\d+,\d+,\d+\]|yarn|(spark|k8s)://\S+"
)
_MEMORY = re.compile(r"\d+[kmgtp]?b?", re.IGNORECASE)


def check_settings(master: str | None) -> None:
    """MovieRecError, before Spark starts, for a master URL Spark would refuse or a driver
    memory the JVM would (``MOVIEREC_SPARK_DRIVER_MEMORY``)."""
    if master is not None and not _MASTER.fullmatch(master):
        raise MovieRecError(
            f"unknown Spark master {master[:80]!r}; use local[N], local[*], spark://HOST:PORT, "
            "k8s://… or yarn"
        )
    memory = os.environ.get(DRIVER_MEMORY_ENV)
    if memory is not None and not _MEMORY.fullmatch(memory.strip()):
        raise MovieRecError(
            f"{DRIVER_MEMORY_ENV}={memory[:40]!r} is not an amount of memory; use e.g. 2g or 4096m"
        )


@contextlib.contextmanager
def _jvm_started(log: Path) -> Any:
    """pyspark's start of the JVM, watched: its stdout and stderr go to ``log`` (and so do
    those of every process it starts in turn), and the process is remembered at once for
    :func:`stop` to end, even when the start is cut short (Ctrl+C while it starts)."""
    from pyspark import java_gateway

    real = java_gateway.Popen
    with log.open("ab") as output:

        def watched(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("stdout", output)
            kwargs.setdefault("stderr", output)
            process = real(*args, **kwargs)
            _state["jvm"] = process
            return process

        java_gateway.Popen = watched  # type: ignore[misc,assignment]
        try:
            yield
        finally:
            java_gateway.Popen = real  # type: ignore[misc]


_REASONS = re.compile(
    r'Exception in thread "[^"]*" [\w.$]+: (.+)|spark: ERROR \w+: (.+)|Error: (?!A fatal)(.+)'
    r"|(Invalid .+)|(Could not .+)|(.*(?:Exception|Error): .+)"
)


def _reason(log: Path) -> str:
    """The first line of Spark's ``log`` that says why it failed (cleaned, cut), or ''."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        found = _REASONS.match(line.strip())
        if found:
            return next(part for part in found.groups() if part)[:200]
    return ""


def quiet_python_warnings() -> None:
    """pyspark warns on every pandas conversion that pandas 3 is not fully supported; movierec
    passes it plain columns (Arrow) and reads back plain arrays, which work. And pyspark's
    query-context loggers print every failed query as a JSON record with its Java stack on
    stderr, before the exception that movierec turns into its one-line error."""
    from pyspark.logger import PySparkLogger

    warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    # py4j logs a broken call (the JVM gone, a call cut short by Ctrl+C) with its traceback,
    # on its own logger or on the root one.
    logging.getLogger("py4j").disabled = True
    root = logging.getLogger()
    if _not_py4j not in root.filters:
        root.addFilter(_not_py4j)


def _not_py4j(record: logging.LogRecord) -> bool:
    """A logging filter: False for py4j's records."""
    return f"{os.sep}py4j{os.sep}" not in record.pathname


def spark_session(master: str | None = None) -> Any:
    """The process's SparkSession: the running one (under ``spark-submit``, or started earlier
    by movierec), or a new one on ``master`` (default ``local[2]``). A running session on a
    different master is an error: a process has one SparkContext."""
    require_spark()
    check_settings(master)
    quiet_python_warnings()
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    if running is not None:
        current = running.sparkContext.master
        if master is not None and master != current:
            raise MovieRecError(
                f"Spark already runs on {current} in this process; it cannot switch to {master}"
            )
        return running
    master = master or os.environ.get("MASTER") or DEFAULT_MASTER
    workspace = Path(tempfile.mkdtemp(prefix="movierec-spark-"))
    _state["workspace"] = workspace
    atexit.register(stop)
    handle, name = tempfile.mkstemp(prefix="movierec-spark-", suffix=".log")
    os.close(handle)
    log = _state["log"] = Path(name)
    builder = _builder(master, workspace)
    own_handler = signal.getsignal(signal.SIGINT)
    try:
        with _jvm_started(log):
            session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: Java too old, no memory, a bad master
        _state.pop("log", None)  # kept, for the line to name
        try:  # a Py4JJavaError asks the JVM for its text: before the JVM is ended
            first = (str(exc).strip().splitlines() or [""])[0][:160]
        except Exception:
            first = ""
        stop()
        reason = _reason(log) or f"{type(exc).__name__}: {first}"
        raise MovieRecError(
            f"Spark did not start on {master} ({reason}); check Java (17 or newer), the "
            f"master URL and {DRIVER_MEMORY_ENV}; Spark's log: {log}"
        ) from None
    _keep_sigint_handler(own_handler)
    _quiet_accumulators()
    session.sparkContext.setLogLevel("ERROR")
    if session.sparkContext.getCheckpointDir() is None:
        session.sparkContext.setCheckpointDir(str(workspace / "checkpoints"))
    _state["session"] = session
    return session


def _builder(master: str, workspace: Path) -> Any:
    """The session builder for ``master``: the JVM's log set up by ``workspace``'s log4j2
    file, no UI or console progress, Arrow on, few shuffle partitions on a local master; the
    Python workers run this interpreter."""
    from pyspark.sql import SparkSession

    log_config = workspace / "log4j2.properties"
    log_config.write_text(_LOG_CONFIG, encoding="utf-8")
    # Python workers (the Gram matrix's partitions) run this interpreter, with movierec on it.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master.startswith("local") or "://127.0.0.1" in master or "://localhost" in master:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # else Spark warns of the loopback
    java_options = f"-Dlog4j2.configurationFile=file:{log_config}"
    builder = (
        SparkSession.builder.master(master)
        .appName("movierec")
        .config("spark.driver.memory", os.environ.get(DRIVER_MEMORY_ENV, DEFAULT_DRIVER_MEMORY))
        .config("spark.driver.extraJavaOptions", java_options)
        .config("spark.executor.extraJavaOptions", java_options)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if master.startswith("local"):
        builder = builder.config("spark.sql.shuffle.partitions", "4")
    return builder


def _keep_sigint_handler(handler: Any) -> None:
    """Put back a SIGINT handler of the process's own (the CLI's, which ends a command cleanly
    with one line and exit 130) that starting a SparkContext replaced: pyspark's calls the JVM
    from inside the signal handler, which breaks the call the main thread is making, and py4j
    then logs tracebacks of both. Python's default handler (a notebook's Ctrl+C) is left to
    pyspark, whose handler cancels the running jobs and keeps the session."""
    if handler in (signal.default_int_handler, signal.SIG_DFL, None):
        return
    with contextlib.suppress(ValueError):  # not the main thread: pyspark installed nothing
        signal.signal(signal.SIGINT, handler)


def stop() -> None:
    """Stop the session movierec started (a no-op otherwise) and remove its temporary folder.
    At exit after an interrupt the JVM may no longer answer: then there is nothing to stop."""
    _quiet_accumulators()
    session = _state.pop("session", None)
    if session is not None:
        with contextlib.suppress(Exception):
            _silence(session)
        with contextlib.suppress(Exception):
            session.stop()
    _end_jvm()
    workspace = _state.pop("workspace", None)
    if workspace is not None:
        shutil.rmtree(workspace, ignore_errors=True)
    log = _state.pop("log", None)
    if log is not None:
        log.unlink(missing_ok=True)


def _quiet_accumulators() -> None:
    """pyspark's accumulator server (a thread of this process) prints the traceback of every
    connection the JVM drops, which a JVM cut short or ended does: no longer."""
    pyspark = sys.modules.get("pyspark")
    context = getattr(getattr(pyspark, "SparkContext", None), "_active_spark_context", None)
    server = getattr(context, "_accumulatorServer", None)
    if server is not None:
        server.handle_error = lambda request, address: None


def _end_jvm() -> None:
    """End the JVM that pyspark started for movierec, if it still runs: after a call cut short
    (Ctrl+C, SIGTERM) or a SparkContext that failed to start, the JVM outlived the process."""
    jvm = _state.pop("jvm", None)
    if jvm is None or jvm.poll() is not None:
        return
    with contextlib.suppress(Exception):
        jvm.terminate()
        try:
            jvm.wait(timeout=10)
        except Exception:  # it did not stop in time (or the wait was cut short)
            jvm.kill()
            jvm.wait(timeout=10)
    with contextlib.suppress(Exception):
        from pyspark import SparkContext

        SparkContext._gateway = None
        SparkContext._jvm = None


def _silence(session: Any) -> None:
    """Turn the JVM's logging off: stopping comes after movierec's last line, and a job cut
    short by Ctrl+C makes its tasks' shutdown log errors (a missing block manager, a failed
    completion listener) that would print after it."""
    jvm = session.sparkContext._jvm
    levels = jvm.org.apache.logging.log4j
    levels.core.config.Configurator.setAllLevels("", levels.Level.OFF)


def parallelism(session: Any) -> int:
    """How many tasks the session runs at once (its default parallelism, at least 1)."""
    return max(int(session.sparkContext.defaultParallelism), 1)
