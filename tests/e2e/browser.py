"""Headless Chromium for browser tests (Debian's chromium + chromedriver, python3-selenium).

    if not browser.available():
        pytest.skip(browser.why_unavailable())
    with browser.Browser(tmp_path) as b:
        b.get("http://127.0.0.1:8080/#token=...")
        b.wait_css("#convergence[data-state=converged]", 30, "regions converged")
        b.screenshot(path)
        b.js_errors()      # console errors of the page (SEVERE), for assertions

Waits poll the DOM with a deadline (no sleeps-and-hope); a timed-out wait names what it waited
for and attaches the page's console log.
"""

import os
import shutil
import time

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def why_unavailable():
    """None when a browser test can run, else the reason it cannot."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            return "%s is not installed (Debian packages chromium, chromium-driver)" % path
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "python3-selenium is not installed"
    return None


def available():
    return why_unavailable() is None


def artifacts_dir(default):
    """$WALRUS_ARTIFACTS_DIR if set (created), else `default`."""
    d = os.environ.get("WALRUS_ARTIFACTS_DIR") or str(default)
    os.makedirs(d, exist_ok=True)
    return d


class Browser:
    """One headless Chromium session at 1280x800 with its own profile dir; quit() on exit."""

    def __init__(self, workdir, width=1280, height=800):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = os.path.join(str(workdir), "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                  "--window-size=%d,%d" % (width, height), "--user-data-dir=" + self.profile,
                  "--force-device-scale-factor=1"):
            opts.add_argument(a)
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        log = os.path.join(str(workdir), "chromedriver.log")
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=log), options=opts)
        self.driver.set_page_load_timeout(30)
        # --window-size includes the window frame; pin the viewport itself.
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self._console = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.quit()

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)

    def get(self, url):
        self.driver.get(url)

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector):
        els = self.css(selector)
        assert els, "no element matches %r" % selector
        return els[0]

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def console(self):
        """Every console message so far (they are consumed from the driver, so kept here)."""
        try:
            self._console += self.driver.get_log("browser")
        except Exception:  # noqa: BLE001 (driver without log support)
            pass
        return self._console

    def js_errors(self):
        return [m for m in self.console() if m.get("level") == "SEVERE"]

    def wait(self, cond, timeout, what, interval=0.1):
        """Poll cond() (exceptions count as not yet) until truthy; AssertionError at the deadline."""
        deadline = time.monotonic() + timeout
        last_exc = None
        while True:
            try:
                v = cond()
                if v:
                    return v
            except Exception as e:  # noqa: BLE001 (stale elements while the page re-renders)
                last_exc = e
            if time.monotonic() > deadline:
                raise AssertionError("browser: timed out after %.1fs waiting for %s (last error: %s)"
                                     "\nconsole:\n%s" % (timeout, what, last_exc, "\n".join(
                                         "  %s %s" % (m.get("level"), m.get("message"))
                                         for m in self.console()[-20:])))
            time.sleep(interval)

    def wait_css(self, selector, timeout, what=None):
        return self.wait(lambda: self.css(selector), timeout, what or selector)

    def set_value(self, selector, value):
        """Sets an input/select's value as a user would (fires input and change)."""
        el = self.one(selector)
        self.js("arguments[0].value = arguments[1];"
                "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));"
                "arguments[0].dispatchEvent(new Event('change', {bubbles: true}));", el, value)

    def screenshot(self, path):
        self.driver.save_screenshot(str(path))
        return str(path)
