"""The only Apprise user: whether a target URL can be read, and sending one message to one target.

Apprise's own log goes nowhere but to the capture of each send (it may name a host or an address of a
target, and target URLs are secrets). A failure is told by the target's label (its place in `to` and
its scheme) and the reason Apprise gave, with every part of the target's URL masked in it."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from pipeline.errors import ConfigError
from pipeline.model import Config
from pipeline.notify.messages import Message
from pipeline.subscriptions import Target

if TYPE_CHECKING:
    import apprise

EMAIL_SCHEMES = {"mailto", "mailtos", "email", "emails", "ses", "sendgrid", "mailgun", "sparkpost", "resend", "brevo"}
SERVICE_TIMEOUT = 30.0  # seconds one message may take to be handed over (connect and answer)
HINT = "check its scheme and form against Apprise's list of services (github.com/caronc/apprise/wiki)"
REASON_CHARACTERS = 200  # the reason of a failure, as the outbox, `status` and `notify --test` show it
# The cause in a debug line: the system's word ("[Errno 111] Connection refused"), or a server's reply code
# and text ("(535, b'5.7.8 Authentication credentials invalid')": a wrong password, not the network).
CAUSE = re.compile(r"\[Errno -?\d+\] ([^\"'()\[\]]+)|\(([45]\d\d), b?[\"']([^\"']{1,120})")
_LOG = logging.getLogger("apprise")
_LOG.propagate = False  # never to Pānui's log; each send reads its own records (AppriseResult.logs)
_LOG.addHandler(logging.NullHandler())  # (without one, Python would print its warnings to stderr)
_LOG.setLevel(logging.DEBUG)  # the system's reason for a failed connection is told at debug level


def check_targets(config: Config) -> None:
    """A target URL that Apprise cannot read stops the run before anything is touched (exit 2)."""
    if not config.notify.subscriptions:
        return  # (and Apprise is not imported: a run with no subscription does not pay for it)
    import apprise

    problems = [
        (f"subscriptions.{subscription.id}.to[{target.number - 1}]", f"Apprise cannot read target {target.label}", HINT)
        for subscription in config.notify.subscriptions
        for target in subscription.targets
        if apprise.Apprise.instantiate(target.url, asset=_asset()) is None
    ]
    if problems:
        raise ConfigError(str(config.path), problems)


def send(target: Target, message: Message) -> str | None:
    """Hand `message` to `target`'s service: None when it was accepted, else why not (no secret in it)."""
    import apprise

    client = apprise.Apprise(asset=_asset())
    if not client.add(target.url):
        return f"Apprise cannot read target {target.label}"
    email = target.url.partition("://")[0].lower() in EMAIL_SCHEMES
    try:
        result = client.notify(
            title=message.subject,
            body=message.html if email else message.short,
            body_format=apprise.NotifyFormat.HTML if email else apprise.NotifyFormat.TEXT,
            log_level=logging.DEBUG,
        )
    except Exception as error:  # a bug in a service's plugin costs this delivery, never the run
        return f"target {target.label} failed: {type(error).__name__}"
    if result:
        return None
    said = [entry.message for entry in result.logs() if entry.level not in {"TRACE", "DEBUG", "INFO"}]
    causes = [
        (found[1] or f"{found[2]} {found[3]}").strip()
        for entry in result.logs()
        for found in CAUSE.finditer(entry.message)
    ]
    reason = "; ".join(dict.fromkeys(said)) + "".join(f" ({cause})" for cause in dict.fromkeys(causes))
    return f"target {target.label} did not accept the message" + (f": {masked(reason, target.url)}" if reason else "")


def masked(reason: str, url: str) -> str:
    """`reason` bounded, with each part of `url` that may be a secret (user, password, host, path, query
    values) replaced by "…", as written or percent-decoded, wherever Apprise's message repeats it."""
    address = url.partition("://")[2]
    where, _, query = address.partition("?")
    parts = re.split(r"[/@:#]", where) + [value for pair in query.split("&") for value in pair.split("=")[1:]]
    for part in sorted({*parts, *map(unquote, parts)}, key=len, reverse=True):
        if len(part) >= 4:  # a short one is masked where it stands alone, not inside a word
            reason = reason.replace(part, "…")
        elif part and not part.isdigit():  # (a port is no secret)
            reason = re.sub(rf"(?<!\w){re.escape(part)}(?!\w)", "…", reason)
    reason = " ".join(reason.split())
    return reason if len(reason) <= REASON_CHARACTERS else reason[: REASON_CHARACTERS - 1] + "…"


def _asset() -> apprise.AppriseAsset:
    # Memory only: Apprise would otherwise keep state in the user's home folder.
    import apprise

    return apprise.AppriseAsset(
        storage_mode=apprise.PersistentStoreMode.MEMORY, service_timeout=SERVICE_TIMEOUT, secure_logging=True
    )
