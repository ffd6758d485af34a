"""Background jobs: the job functions, the declared schedule, and the two ways to run them —
RQ workers with rq-scheduler when REDIS_URL is set, an in-process scheduler thread otherwise."""
