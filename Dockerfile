# Production image: the app under gunicorn; the same image runs the RQ worker and scheduler.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 AUTOTRACK_CONFIG=production
WORKDIR /app
# The lock, not requirements.txt: every package pinned and checked against its hash (make lock).
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY . .
RUN useradd --system --home /app autotrack && mkdir -p /app/instance && chown autotrack /app/instance
USER autotrack
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"]
