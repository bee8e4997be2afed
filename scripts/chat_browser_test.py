#!/usr/bin/env python3
"""The chat room in a real browser: headless Chromium (Debian's chromium + chromium-driver,
driven by selenium) against the release ChatExample --http-port, beside an nc-style client.

    python3 scripts/chat_browser_test.py Examples/.build/release/ChatExample [--screenshot docs/chat-browser.png]

Checks, each named in its failure message:
  - two tabs and one TCP client chat: every line reaches the other two, never its sender;
  - a /nick in one tab shows in the other, and in its who list;
  - a participant's <script> line is shown as text: no script runs, no element is made;
  - /health answers 200 and /metrics answers in the Prometheus text format;
  - the page survives a server restart and reconnects by itself, then chats again.
Everything runs on 127.0.0.1 and every wait is bounded; the server is stopped at the end.
"""
import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:  # installed by scripts/setup.sh; say so rather than a traceback
    sys.exit("chat_browser_test: selenium is missing (pip install selenium, or run scripts/setup.sh)")

WAIT = 15.0


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fail(what):
    print(f"FAIL: {what}", file=sys.stderr)
    raise SystemExit(1)


def wait_for(what, predicate, timeout=WAIT):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except Exception as error:  # a page mid-reload, a stale element: try again
            last = error
        time.sleep(0.05)
    fail(f"{what} (last seen: {last!r})")


class Server:
    def __init__(self, binary, port, http_port):
        self.args = [binary, "--host", "127.0.0.1", "--port", str(port), "--http-port", str(http_port)]
        self.port, self.http_port, self.process = port, http_port, None

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for("the server listens on its HTTP port", lambda: self.http_get("/health")[0] == 200)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def http_get(self, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=5) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()


class LineClient:
    """A participant over plain TCP, as nc would be."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        self.buffer = b""
        self.lines = []

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def poll(self):
        self.sock.setblocking(False)
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buffer += data
        except BlockingIOError:
            pass
        finally:
            self.sock.setblocking(True)
        *complete, self.buffer = self.buffer.split(b"\n")
        self.lines += [line.decode(errors="replace") for line in complete]
        return self.lines

    def saw(self, fragment):
        return any(fragment in line for line in self.poll())


class Tab:
    def __init__(self, url):
        options = Options()
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1000,700", "--disable-background-timer-throttling"):
            options.add_argument(flag)
        if os.path.exists("/usr/bin/chromium"):
            options.binary_location = "/usr/bin/chromium"
        driver_path = "/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None
        service = Service(executable_path=driver_path) if driver_path else Service()
        self.driver = webdriver.Chrome(options=options, service=service)
        self.driver.get(url)

    def state(self):
        return self.driver.find_element(By.ID, "state").text

    def log_items(self):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#log li')].map(li => [li.className, li.textContent])")

    def received(self, fragment):
        """True once a line from someone else (not this tab's own echo) holds `fragment`."""
        return any(fragment in text and "mine" not in cls for cls, text in self.log_items())

    def name(self):
        text = self.driver.find_element(By.ID, "me").text
        return text.removeprefix("you are ").strip()

    def who(self):
        return [li.text for li in self.driver.find_elements(By.CSS_SELECTOR, "#who li")]

    def say(self, text):
        box = self.driver.find_element(By.ID, "message")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def quit(self):
        self.driver.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--screenshot", help="where to save a PNG of a tab in the middle of the chat")
    args = parser.parse_args()

    server = Server(args.binary, free_port(), free_port())
    tabs = []
    try:
        server.start()
        status, content_type, body = server.http_get("/")
        if status != 200 or "text/html" not in content_type or 'id="message"' not in body:
            fail(f"GET / serves the page (status {status}, type {content_type!r})")
        status, content_type, metrics = server.http_get("/metrics")
        if status != 200 or "text/plain" not in content_type or "# TYPE" not in metrics:
            fail(f"GET /metrics answers in the Prometheus text format (status {status}, type {content_type!r})")

        url = f"http://127.0.0.1:{server.http_port}/"
        tabs = [Tab(url), Tab(url)]
        a, b = tabs
        for tab in tabs:
            wait_for("a tab connects and learns its name", lambda tab=tab: tab.state() == "connected" and tab.name())
        nc = LineClient(server.port)
        wait_for("the TCP client is welcomed", lambda: nc.saw("Welcome"))
        wait_for("both tabs see the TCP client join", lambda: a.received("joined") and b.received("joined"))

        # Every line reaches the other two, never its sender.
        a.say("hello from tab A")
        wait_for("tab B gets tab A's line", lambda: b.received("hello from tab A"))
        wait_for("the TCP client gets tab A's line", lambda: nc.saw("hello from tab A"))
        b.say("hello from tab B")
        wait_for("tab A gets tab B's line", lambda: a.received("hello from tab B"))
        wait_for("the TCP client gets tab B's line", lambda: nc.saw("hello from tab B"))
        nc.send("hello from nc")
        wait_for("both tabs get the TCP client's line",
                 lambda: a.received("hello from nc") and b.received("hello from nc"))
        if a.received("hello from tab A") or b.received("hello from tab B") or nc.saw("hello from nc"):
            fail("a line came back to its sender")

        # A rename in one tab shows in the other, and in its who list.
        old = a.name()
        a.say("/nick alice")
        wait_for("tab A learns its new name", lambda: a.name() == "alice")
        wait_for("tab B sees the rename", lambda: b.received(f"{old} is now known as alice"))
        wait_for("tab B's who list shows alice", lambda: "alice" in b.who())

        # A participant's markup is shown as text: no script runs, no element is made.
        nc.send('<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b id="bold">x</b>')
        wait_for("the tabs show the markup as text", lambda: b.received("<script>window.pwned = 1</script>"))
        for tab in tabs:
            if tab.driver.execute_script("return window.pwned") is not None:
                fail("a participant's line ran script in a tab")
            if tab.driver.execute_script("return document.querySelector('#log b, #log img, #log script')"):
                fail("a participant's line made an element in a tab")

        if args.screenshot:
            b.say("/me waves at everyone")
            wait_for("tab A sees the action", lambda: a.received("waves at everyone"))
            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            a.driver.save_screenshot(args.screenshot)

        # The page survives a server restart and reconnects by itself.
        nc.sock.close()
        server.stop()
        wait_for("the tabs notice the server went away", lambda: all(t.state() != "connected" for t in tabs))
        server.start()
        for tab in tabs:
            wait_for("a tab reconnects by itself after the restart", lambda tab=tab: tab.state() == "connected",
                     timeout=30)
        wait_for("tab A learns its name again", lambda: a.name() != "")
        a.say("back again")
        wait_for("tab B gets a line after the restart", lambda: b.received("back again"))
        print("chat_browser_test: 5 checks passed (relay, rename, escaping, health/metrics, reconnect)")
    finally:
        for tab in tabs:
            tab.quit()
        server.stop()


if __name__ == "__main__":
    main()
