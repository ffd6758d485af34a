"""Moves the clock of every Python process of a test run by AUTOTRACK_CLOCK_SHIFT_SECONDS.

CI's 'any date' stages put this folder on PYTHONPATH, so Python imports it at start in the test
process and in every process the tests spawn (RQ workers, the scheduler, gunicorn, the CLI): all of
them agree on the moved time. time-machine moves the wall clock (time.time, datetime.now, …) and
lets it run on; monotonic clocks stay real, so timeouts and waits keep their length. (libfaketime
cannot do this for Python 3.11: it makes timed lock waits hang and time.sleep fail.)
"""

import os

_shift = os.environ.get("AUTOTRACK_CLOCK_SHIFT_SECONDS")
if _shift:
    import time

    import time_machine

    time_machine.travel(time.time() + float(_shift), tick=True).start()
