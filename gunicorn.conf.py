"""gunicorn settings for production (docker-compose's `web` service).

Every signed-in page holds one live-notification stream (server-sent events) open, and with
the gthread worker each open stream holds a thread. So each worker has many threads, and at
most AUTOTRACK_STREAM_SLOTS of them may stream: the rest (GUNICORN_RESERVED_THREADS) are kept
for ordinary requests, which therefore never wait behind streams. A page over the limit is
told to retry in 30 s. Waiting streams cost no CPU and hold no database connection.

Sizing: workers ~ 2 x cores (the work is CPU-bound Python; more processes, not more threads,
use more cores); threads = open pages per worker + the reserve. For 400 open pages on a 4-core
host: 8 workers x (50 + 8) threads. Idle keep-alive connections hold no thread.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * multiprocessing.cpu_count())))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
reserved_threads = int(os.environ.get("GUNICORN_RESERVED_THREADS", "8"))
# Read by the app (config.py) in each worker: gunicorn loads the app after forking.
os.environ.setdefault("AUTOTRACK_STREAM_SLOTS", str(max(1, threads - reserved_threads)))
timeout = 60  # a stuck worker, not a long stream: gthread workers report alive from their main loop
# A stopping worker waits this long for its requests. Its open streams end at once (below):
# the browsers reconnect to the other workers, resuming after the last notification they saw.
graceful_timeout = 30
keepalive = 5
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """On SIGTERM (a deploy, a restart, scaling down) end this worker's streams at once rather
    than hold the shutdown for graceful_timeout."""
    import signal

    stop_worker = signal.getsignal(signal.SIGTERM)

    def end_streams_then_stop(signum, frame):
        from autotrack.services import live

        live.end_streams()
        stop_worker(signum, frame)

    signal.signal(signal.SIGTERM, end_streams_then_stop)
