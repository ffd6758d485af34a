"""RQ worker classes that run every job inside a Flask app context."""

from rq import SimpleWorker, Worker


class AppContextMixin:
    """Wraps each job (and its callbacks) in an app context of one app built per worker."""

    def __init__(self, *args, app=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.app = app
        # A signal asked this worker to stop (RQ records that only for a busy worker), as
        # opposed to its work loop ending on an error: `flask jobs worker` restarts only the latter.
        self.stop_requested = False

    def request_stop(self, signum, frame):
        self.stop_requested = True
        super().request_stop(signum, frame)

    def bootstrap(self, *args, **kwargs):
        # Not in __init__: RQ also instantiates worker classes just to read their state.
        if self.app is None:
            from autotrack import create_app

            self.app = create_app()
        super().bootstrap(*args, **kwargs)

    def perform_job(self, job, queue, execution):
        with self.app.app_context():
            return super().perform_job(job, queue, execution)


class AppWorker(AppContextMixin, Worker):
    """Forks a work horse per job (production)."""

    def perform_job(self, job, queue, execution):
        from autotrack.extensions import db

        with self.app.app_context():
            # The forked child must not reuse the parent's pooled database connections.
            db.engine.dispose(close=False)
        return super().perform_job(job, queue, execution)


class AppSimpleWorker(AppContextMixin, SimpleWorker):
    """Runs jobs in its own process, without forking (tests, debugging)."""
