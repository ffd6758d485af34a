"""Helpers for tests that need several things to happen at once."""
import threading

from autotrack.extensions import db


def run_concurrently(app, work, count):
    """Run `work()` in `count` threads released together, each in its own app context and
    database session (as separate requests or workers would). Returns the results; raises the
    first error a thread hit. `work` must not touch the calling test's objects: pass ids."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(work())
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - re-raised in the test's thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
