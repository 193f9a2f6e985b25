"""One SparkSession per process, started on first use, quiet, and cleaned up at exit.

Spark is optional (``pip install 'movierec[spark]'``) and needs Java 17 or newer; without
either, :func:`spark_session` is a one-line MovieRecError saying what to install. The JVM's
settings are fixed when it starts, so everything it needs is set here: logging at ERROR (Spark
prints its "Setting default log level" banner unless the root and ``org.apache.spark`` loggers
share one level; a failed task's own lines, a stack trace among them, are off: the failure
reaches the driver as an exception, which movierec words in one line), no console progress
bars, few shuffle partitions on a local master, a checkpoint folder (long ALS runs truncate
their lineage there) in a temporary folder movierec owns and removes.
"""

from __future__ import annotations

import atexit
import contextlib
import os
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


def quiet_python_warnings() -> None:
    """pyspark warns on every pandas conversion that pandas 3 is not fully supported; movierec
    passes it plain columns (Arrow) and reads back plain arrays, which work. And pyspark's
    query-context loggers print every failed query as a JSON record with its Java stack on
    stderr, before the exception that movierec turns into its one-line error."""
    from pyspark.logger import PySparkLogger

    warnings.filterwarnings("ignore", message="PySpark does not yet", category=FutureWarning)
    for name in ("DataFrameQueryContextLogger", "SQLQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True


def spark_session(master: str | None = None) -> Any:
    """The process's SparkSession: the running one (under ``spark-submit``, or started earlier
    by movierec), or a new one on ``master`` (default ``local[2]``). A running session on a
    different master is an error: a process has one SparkContext."""
    require_spark()
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
    own_handler = signal.getsignal(signal.SIGINT)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM failed to start: Java too old, no memory, a bad master
        stop()
        raise MovieRecError(
            f"Spark did not start on {master} ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); check Java (17 or newer) "
            "and the master URL"
        ) from None
    _keep_sigint_handler(own_handler)
    session.sparkContext.setLogLevel("ERROR")
    if session.sparkContext.getCheckpointDir() is None:
        session.sparkContext.setCheckpointDir(str(workspace / "checkpoints"))
    _state["session"] = session
    return session


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
    session = _state.pop("session", None)
    if session is not None:
        with contextlib.suppress(Exception):
            _silence(session)
            session.stop()
    workspace = _state.pop("workspace", None)
    if workspace is not None:
        shutil.rmtree(workspace, ignore_errors=True)


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
