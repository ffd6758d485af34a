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


class Site:
    """An app served on 127.0.0.1:`port`, used as a browser would (cookies, CSRF tokens)."""

    def __init__(self, port):
        self.port = port

    def sign_in(self, email, password):
        """The session cookie of `email` signed in through the login form."""
        import re
        import urllib.parse

        connection = self.connection()
        connection.request("GET", "/login")
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        connection.request("POST", "/login", headers={"Cookie": cookie,
                                                      "Content-Type": "application/x-www-form-urlencoded"},
                           body=urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token}))
        response = connection.getresponse()
        response.read()
        assert response.status == 302, f"sign-in of {email} failed ({response.status})"
        return response.getheader("Set-Cookie").split(";")[0]

    def post_form(self, path, cookie, data):
        """Submit the form on `path` as its page would (with the page's CSRF token); the response."""
        import re
        import urllib.parse

        connection = self.connection()
        connection.request("GET", path, headers={"Cookie": cookie})
        response = connection.getresponse()
        page = response.read().decode()
        if response.getheader("Set-Cookie"):  # the page stored a new CSRF token: a browser keeps the cookie
            cookie = response.getheader("Set-Cookie").split(";")[0]
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        connection.request("POST", path, body=urllib.parse.urlencode({**data, "csrf_token": token}),
                           headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        return response

    def connection(self, timeout=10):
        import http.client

        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


class Served(Site):
    """`app` served on 127.0.0.1 by a real threaded HTTP server (streams need one)."""

    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        super().__init__(self.server.server_port)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class EventStream:
    """Reads a text/event-stream in a thread; `next_event()` waits for the next complete event."""

    def __init__(self, site, path, cookie, headers=None):
        import queue

        self.events = queue.Queue()
        self.connection = site.connection(timeout=120)
        self.connection.request("GET", path, headers={"Cookie": cookie, **(headers or {})})
        self.socket = self.connection.sock  # the response takes it over; close() shuts it
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        fields = {}
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line:
                    name, _, value = line.partition(":")
                    fields[name] = fields.get(name, "") + value.removeprefix(" ")
                    continue
                if fields:
                    self.events.put(fields)
                fields = {}
        except (OSError, ValueError):
            pass
        self.events.put(None)  # the stream ended

    def next_event(self, timeout, kind="notification"):
        """The next event of `kind` (others are skipped) within `timeout` seconds, or None."""
        import json
        import queue
        import time

        deadline = time.monotonic() + timeout
        while True:
            try:
                fields = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if fields is None:
                return None
            if fields.get("event") == kind:
                return {**json.loads(fields["data"]), "_id": fields.get("id")}

    def close(self):
        """Drop the connection, as a closed browser tab does."""
        import socket

        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        self.thread.join(5)
