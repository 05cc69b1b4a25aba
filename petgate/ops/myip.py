"""The caller's own address, as checkip sees it (asked once per command)."""

from __future__ import annotations

from petgate.errors import NetworkError
from petgate.ops.services import Services


def my_cidr(app: Services) -> str:
    """The caller's address from checkip, as a /32 or /128."""
    from petgate import checkip

    return checkip.as_cidr(checkip.parse_answer(my_address(app)))


def my_address(app: Services) -> str:
    """The caller's address as checkip sees it (asked once per command)."""
    if app.checkip_address is None:
        app.checkip_address = _ask_checkip(app)
    return app.checkip_address


def _ask_checkip(app: Services) -> str:
    import requests

    from petgate import checkip

    url = app.target.effective_checkip_url
    try:
        with app.output.waiting(f"Asking {url} for your public IP..."):
            address = checkip.fetch_my_ip(url, app.http)
    except checkip.CheckipAnswerError as exc:
        raise NetworkError(f"{exc} ({url})", "pass the address with --cidr instead") from None
    except requests.RequestException as exc:
        raise NetworkError(
            f"cannot reach checkip at {url} ({type(exc).__name__})",
            "check your connection, or pass the address with --cidr",
        ) from None
    if not checkip.is_public(address) and app.target.kind != "local":
        app.output.warn(
            f"checkip says {address}, a private or loopback address: that is not the address AWS will see"
        )
    return str(address)
