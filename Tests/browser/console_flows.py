#!/usr/bin/env python3
"""Drives the web console in a real browser (Debian's chromium and chromedriver, through
Selenium) through an administrator's and a user's main tasks, against a running Mailroom.

Run by Tests/IntegrationTests/ConsoleBrowserTests.swift, which starts the server and creates
admin@example.org (server admin). Usage:
  console_flows.py ADMIN_URL SMTP_PORT SUBMISSION_PORT IMAP_PORT SCREENSHOT_DIR
Prints one line per step; on failure saves a screenshot and the page and exits non-zero.
"""
import base64
import hashlib
import hmac
import imaplib
import os
import re
import smtplib
import struct
import sys
import time
import traceback

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

URL, SMTP_PORT, SUBMISSION_PORT, IMAP_PORT, SHOTS = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ADMIN, ADMIN_PASSWORD = "admin@example.org", "admin-password-1"


def totp(key, step_offset=0):
    """RFC 6238 with the app defaults: what a phone's authenticator shows."""
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    step = int(time.time()) // 30 + step_offset
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return "%06d" % (number % 1_000_000)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"]:
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.implicitly_wait(2)
    return driver


class Flow:
    def __init__(self, driver, name):
        self.d, self.name, self.step = driver, name, "start"

    def log(self, step):
        self.step = step
        print(f"[{self.name}] {step}", flush=True)

    def open(self, path, refused=False):
        self.d.get(URL + path)
        self.no_script_errors(refused)

    def field(self, label):
        """The control a visible label names: forms are labelled, so a person can find them."""
        for el in self.d.find_elements(By.XPATH, f"//label[normalize-space()='{label}']"):
            target = el.get_attribute("for")
            if target and el.is_displayed():
                return self.d.find_element(By.ID, target)
        raise AssertionError(f"no field labelled {label!r} on {self.d.current_url}")

    def fill(self, label, text):
        f = self.field(label)
        f.clear()
        f.send_keys(text)

    def press(self, name):
        """Clicks the button with this accessible name (its text or aria-label)."""
        for b in self.d.find_elements(By.TAG_NAME, "button"):
            if name in (b.text.strip(), b.get_attribute("aria-label")) and b.is_displayed():
                b.click()
                self.no_script_errors()
                return
        raise AssertionError(f"no button {name!r} on {self.d.current_url}")

    def text(self):
        return self.d.find_element(By.TAG_NAME, "main").text

    def expect(self, snippet):
        # A click starts a navigation that may not have finished: wait for the page, boundedly.
        deadline = time.time() + 10
        while True:
            try:
                body = self.text()
            except Exception:
                body = ""
            if snippet in body:
                return
            if time.time() > deadline:
                raise AssertionError(f"expected {snippet!r} on {self.d.current_url}; page says:\n{body[:1500]}")
            time.sleep(0.1)

    def shot(self, name):
        """With CONSOLE_DOC_SHOTS=DIR set, keeps a picture of this page for docs/console.md."""
        folder = os.environ.get("CONSOLE_DOC_SHOTS")
        if folder:
            self.d.save_screenshot(os.path.join(folder, name + ".png"))

    def secrets(self):
        return [e.text.strip() for e in self.d.find_elements(By.CSS_SELECTOR, "code.secret")]

    def no_script_errors(self, refused=False):
        # Any script error, and any Content-Security-Policy violation, is logged as SEVERE;
        # so is the page's own 403 when refusal is what the step expects.
        errors = [e for e in self.d.get_log("browser") if e.get("level") == "SEVERE"
                  and not (refused and e.get("source") == "network" and "status of 403" in e.get("message", ""))]
        assert not errors, f"browser console errors on {self.d.current_url}: {errors}"

    def sign_in(self, address, password, code_key=None):
        self.open("/login")
        self.fill("Email address", address)
        self.fill("Password", password)
        self.press("Sign in")
        if code_key:
            self.expect("Enter the 6-digit code")
            # The code that turned 2FA on was spent; the next step's is the one to give.
            self.fill("Code", totp(code_key, 1))
            self.press("Continue")

    def sign_out(self):
        self.press("Sign out")
        self.expect("Sign in with your email address")


def admin_flows(f):
    f.log("sign in with the password")
    f.sign_in(ADMIN, ADMIN_PASSWORD)
    f.expect("Mail in the last 24 hours")

    f.log("turn on two-factor sign-in")
    f.open("/account")
    f.press("Set up two-factor sign-in")
    key = f.secrets()[0]
    f.fill("Code from the app", totp(key))
    f.press("Turn on")
    f.expect("Two-factor sign-in is on.")
    assert len(f.secrets()) == 10, "ten recovery codes are shown"
    f.sign_out()

    f.log("sign in with the password and a TOTP code")
    f.sign_in(ADMIN, ADMIN_PASSWORD, code_key=key)
    f.expect("Mail in the last 24 hours")

    f.log("create an account with a generated password")
    f.open("/accounts")
    f.fill("Address", "carol@example.org")
    f.fill("Full name", "Carol <Admin> & Co")
    f.press("Add account")
    f.expect("Account carol@example.org added.")
    f.expect("Carol <Admin> & Co")  # shown as text, not markup
    first_password = f.secrets()[0]

    f.log("reset the password")
    f.press("Reset password")
    f.expect("Password changed.")
    carol_password = f.secrets()[0]
    assert carol_password != first_password
    f.shot("account")

    f.log("create a moderated list")
    f.open("/lists")
    f.fill("List address", "team@example.org")
    f.fill("Name", "Team")
    f.fill("Members", "carol@example.org\nadmin@example.org")
    f.press("Create list")
    f.expect("List team@example.org created.")
    from selenium.webdriver.support.ui import Select
    Select(f.field("Who may post")).select_by_value("moderated")
    f.fill("Moderators", "admin@example.org")
    f.press("Save posting rules")
    f.expect("Saved.")

    f.log("a non-member posts; the message is held")
    with smtplib.SMTP("127.0.0.1", SMTP_PORT, timeout=30) as s:
        s.sendmail("outsider@elsewhere.test", ["team@example.org"],
                   "From: outsider@elsewhere.test\r\nTo: team@example.org\r\nSubject: Please review\r\n"
                   "Message-ID: <held-1@elsewhere.test>\r\n\r\nHello team.\r\n")
    f.open("/moderation")
    f.expect("Please review")
    f.d.find_element(By.LINK_TEXT, "Please review").click()
    f.expect("Hello team.")
    f.shot("moderation")

    f.log("approve it")
    f.press("Approve")
    f.expect("Approved: sent to 2 recipient(s).")

    f.log("find it by trace")
    f.open("/trace")
    f.fill("Message-ID", "held-1@elsewhere.test")
    f.press("Trace")
    f.expect("approved by moderator admin@example.org")
    f.shot("trace")

    f.log("retry a queued message")
    with smtplib.SMTP("127.0.0.1", SUBMISSION_PORT, timeout=30) as s:
        s.login("carol@example.org", carol_password)
        s.sendmail("carol@example.org", ["friend@unreachable.test"],
                   "From: carol@example.org\r\nTo: friend@unreachable.test\r\nSubject: Queued\r\n\r\nx\r\n")
    f.open("/queue")
    deadline = time.time() + 30
    while "friend@unreachable.test" not in f.text() and time.time() < deadline:
        time.sleep(0.5)
        f.open("/queue")
    f.expect("friend@unreachable.test")
    f.press([b.get_attribute("aria-label") for b in f.d.find_elements(By.TAG_NAME, "button")
             if (b.get_attribute("aria-label") or "").startswith("Retry ")][0])
    f.expect("Retry: 1 recipient(s).")
    f.shot("queue")
    f.open("/")
    f.shot("dashboard")
    f.sign_out()
    return carol_password


def user_flows(f, carol_password):
    f.log("a user signs in and changes her password")
    f.sign_in("carol@example.org", carol_password)
    f.expect("My account")
    f.fill("Current password", carol_password)
    f.fill("New password", "carol-new-password-1")
    f.fill("New password again", "carol-new-password-1")
    f.press("Change password")
    f.expect("Password changed.")

    f.log("she creates an app password and uses it over IMAP")
    f.fill("Device name", "Phone")
    f.press("Create app password")
    app_password = f.secrets()[0]
    imap = imaplib.IMAP4("127.0.0.1", IMAP_PORT)
    imap.login("carol@example.org", app_password)
    typ, data = imap.select("INBOX")
    assert typ == "OK" and int(data[0]) >= 1, f"the approved list message is in her INBOX: {data}"
    imap.logout()
    f.open("/account")
    f.expect("Phone")
    f.shot("my-account")

    f.log("admin pages are not hers")
    f.open("/accounts", refused=True)
    f.expect("This page is for administrators.")


def main():
    os.makedirs(SHOTS, exist_ok=True)
    driver = browser()
    flow = Flow(driver, "admin")
    try:
        carol_password = admin_flows(flow)
        flow = Flow(driver, "user")
        user_flows(flow, carol_password)
    except Exception:
        traceback.print_exc()
        shot = os.path.join(SHOTS, f"{flow.name}-{re.sub('[^a-z0-9]+', '-', flow.step.lower())}.png")
        driver.save_screenshot(shot)
        with open(shot[:-4] + ".html", "w") as page:
            page.write(driver.page_source)
        print(f"FAILED at [{flow.name}] {flow.step}; screenshot {shot}", flush=True)
        sys.exit(1)
    finally:
        driver.quit()
    print("all flows passed", flush=True)


if __name__ == "__main__":
    main()
