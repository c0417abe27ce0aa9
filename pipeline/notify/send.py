"""The only Apprise user: whether a target URL can be read, and sending one message to one target.

Apprise's own log is silenced: it may name a host or an address of a target, and target URLs are
secrets. A failure is told by the target's label alone (its place in `to` and its scheme)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pipeline.errors import ConfigError
from pipeline.model import Config
from pipeline.notify.messages import Message
from pipeline.subscriptions import Target

if TYPE_CHECKING:
    import apprise

EMAIL_SCHEMES = {"mailto", "mailtos", "email", "emails", "ses", "sendgrid", "mailgun", "sparkpost", "resend", "brevo"}
SERVICE_TIMEOUT = 30.0  # seconds one message may take to be handed over (connect and answer)
HINT = "check its scheme and form against Apprise's list of services (github.com/caronc/apprise/wiki)"
logging.getLogger("apprise").disabled = True


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
        accepted = client.notify(
            title=message.subject,
            body=message.html if email else message.short,
            body_format=apprise.NotifyFormat.HTML if email else apprise.NotifyFormat.TEXT,
        )
    except Exception as error:  # a bug in a service's plugin costs this delivery, never the run
        return f"target {target.label} failed: {type(error).__name__}"
    return None if accepted else f"target {target.label} did not accept the message"


def _asset() -> apprise.AppriseAsset:
    # Memory only: Apprise would otherwise keep state in the user's home folder.
    import apprise

    return apprise.AppriseAsset(
        storage_mode=apprise.PersistentStoreMode.MEMORY, service_timeout=SERVICE_TIMEOUT, secure_logging=True
    )
