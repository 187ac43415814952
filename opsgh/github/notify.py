"""Slack incoming webhooks: `slack_notifier(url)` gives the `notify(text)` callable that ops receive.

The webhook URL is a secret (whoever has it may post): it never appears in a message. One attempt
per message: an incoming webhook has no idempotency key, so a retry after a lost answer could post
twice; the caller (`opsgh ship`) re-sends only when its own record says the message was not sent.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from opsgh import __version__
from opsgh.errors import NotificationFailed, UsageError


def slack_notifier(url: str, *, source: str = "the Slack webhook variable", timeout: float = 10.0,
                   http_transport: httpx.BaseTransport | None = None) -> Callable[[str], None]:
    """A callable that posts `{"text": text}` to the incoming webhook at `url` (named by `source`)."""
    if urlsplit(url).scheme not in ("https", "http") or not urlsplit(url).netloc:
        raise UsageError(f"{source} does not hold a webhook URL", "set it to the https://hooks.slack.com/... URL "
                         "of a Slack incoming webhook")

    def post(text: str) -> None:
        try:
            with httpx.Client(timeout=timeout, transport=http_transport, follow_redirects=False) as client:
                answer = client.post(url, json={"text": text}, headers={"user-agent": f"opsgh/{__version__}"})
        except httpx.HTTPError as err:
            raise NotificationFailed(f"the Slack webhook ({source}) did not answer: {type(err).__name__}") from None
        if answer.status_code >= 300:
            said = " ".join(answer.text.split())[:200]
            raise NotificationFailed(f"the Slack webhook ({source}) answered {answer.status_code}: {said}")

    return post
