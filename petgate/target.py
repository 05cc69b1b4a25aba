"""Where petgate points: AWS, any endpoint, or the local gateway.

Turns the global options into a boto3 session, the gateway client, the invoke URL form and
the checkip URL. boto3 and requests are imported only when a command needs them.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from petgate.errors import UsageError

if TYPE_CHECKING:
    import requests

    from petgate.gateway import Gateway
    from petgate.http_apis import HttpApis

DEFAULT_LOCAL_URL = "http://127.0.0.1:4599"
# what botocore accepts as a region name (botocore.utils.validate_region_name); anything else
# fails when a client is built, so it is refused first, as the user's to fix
_REGION_NAME = re.compile(r"^[a-zA-Z0-9](?:[a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?$")
LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = ("petgate-local", "petgate-local")  # the local gateway accepts any


def check_url(url: str, where: str) -> tuple[str, int]:
    """The host and port of an http(s) URL; anything else is the user's to fix (exit 2)."""
    import urllib.parse

    hint = "give a URL like http://127.0.0.1:4599"
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port  # ValueError when out of range or not a number
    except ValueError as exc:
        raise UsageError(f"{where} {url!r} is not a usable URL ({exc})", hint) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{where} {url!r} is not an http(s) URL with a host", hint)
    if port == 0:
        raise UsageError(f"{where} {url!r} names port 0", hint)
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


SERVICES = ("apigateway", "apigatewayv2", "wafv2", "iam", "sts")  # the clients petgate makes


def _botocore_session() -> Any:
    """botocore's session, with a data loader that looks up a service in its own directory only.

    botocore's own loader checks the name of every model it loads (the service, its endpoint
    rules, its paginators) against a listing of all the services it ships: some 400
    directories and two stat calls for each, 20-30 ms of a client's creation, once per model
    type. The models loaded, and AWS_DATA_PATH's directories searched first, are the same."""
    import os

    import botocore.session
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import Loader

    class OwnServicesLoader(Loader):
        def list_available_services(self, type_name: str) -> list[str]:
            found = []
            for name in SERVICES:
                try:
                    self.list_api_versions(name, type_name)
                except DataNotFoundError:
                    continue
                found.append(name)
            return found

    session = botocore.session.get_session()

    def loader() -> Loader:  # as botocore.loaders.create_loader makes its own
        data_path = session.get_config_variable("data_path")
        if data_path is None:
            return OwnServicesLoader()
        return OwnServicesLoader(extra_search_paths=[os.path.expanduser(os.path.expandvars(path))
                                                     for path in data_path.split(os.pathsep)])

    session.lazy_register_component("data_loader", loader)
    return session


def new_session(**settings: Any) -> Any:
    """A boto3 session (credentials, profile, region as boto3.Session takes them) whose models
    come through petgate's loader (_botocore_session). Every boto3 session petgate makes is one."""
    import boto3

    return boto3.Session(botocore_session=_botocore_session(), **settings)


def _profile_not_found(profile: str | None) -> UsageError:
    return UsageError(f"AWS profile {profile!r} not found", "check --profile / AWS_PROFILE")


@dataclass
class Target:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    local: bool = False
    local_url: str = DEFAULT_LOCAL_URL
    checkip_url: str | None = None
    source_address: str | None = None

    def validate(self) -> None:
        """Refuse an address that cannot be an endpoint before anything is sent to it."""
        if self.local:
            check_url(self.local_url, "PETGATE_LOCAL_URL")
        elif self.endpoint_url:
            check_url(self.endpoint_url, "--endpoint-url")

    @property
    def kind(self) -> str:
        return "local" if self.local else "endpoint" if self.endpoint_url else "aws"

    def describe(self) -> dict[str, str | None]:
        """Where a change was made, for the journal (undo must run against the same place)."""
        return {"kind": self.kind, "endpoint": self.control_url, "region": self.region_or_none()}

    def region_or_none(self) -> str | None:
        try:
            return self.resolved_region()
        except UsageError:
            return None

    @property
    def control_url(self) -> str | None:
        if self.local:
            return self.local_url.rstrip("/")
        return self.endpoint_url.rstrip("/") if self.endpoint_url else None

    def resolved_region(self) -> str:
        region = (
            self.region
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or (LOCAL_REGION if self.local else None)
        )
        if region is None:
            region = self._profile_region()
        if not region:
            raise UsageError(
                "no AWS region configured",
                "pass --region, set AWS_REGION, or set a region in your AWS profile",
            )
        if not _REGION_NAME.match(region):
            raise UsageError(f"{region!r} is not an AWS region name", "give one like eu-west-1")
        return region

    def _profile_region(self) -> str | None:
        import botocore.exceptions
        import botocore.session

        try:
            session = botocore.session.Session(profile=self.profile)
            value = session.get_config_variable("region")
        except botocore.exceptions.ProfileNotFound:
            raise _profile_not_found(self.profile) from None
        except Exception:  # an unreadable config is reported when the session is built
            return None
        return str(value) if value else None

    def boto3_session(self) -> Any:
        import botocore.exceptions

        try:
            if self.local:
                key, secret = LOCAL_CREDENTIALS
                return new_session(aws_access_key_id=key, aws_secret_access_key=secret,
                                   region_name=self.resolved_region())
            return new_session(profile_name=self.profile, region_name=self.resolved_region())
        except botocore.exceptions.ProfileNotFound as exc:
            raise _profile_not_found(exc.kwargs.get("profile")) from None

    def gateway(self) -> Gateway:
        from botocore.config import Config

        from petgate.gateway import Gateway

        # one attempt per call: Gateway decides on retries itself (guarded writes are never resent
        # by botocore, lease.py); a hung endpoint fails instead of hanging: PETGATE_CONTROL_TIMEOUT
        # bounds each read
        read_timeout = float(os.environ.get("PETGATE_CONTROL_TIMEOUT") or 30)
        config = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5,
                        read_timeout=read_timeout)
        client = self.boto3_session().client("apigateway", endpoint_url=self.control_url, config=config)
        return Gateway(client)

    def waf(self) -> Any:
        """The wafv2 client class for the same place (REGIONAL scope: the API's region)."""
        from botocore.config import Config

        from petgate.waf import Waf

        config = Config(retries={"mode": "standard"}, connect_timeout=5,
                        read_timeout=float(os.environ.get("PETGATE_CONTROL_TIMEOUT") or 30))
        return Waf(self.boto3_session().client("wafv2", endpoint_url=self.control_url, config=config))

    def http_apis(self) -> HttpApis:
        """The apigatewayv2 client class (HTTP APIs) for the same place: the local gateway serves
        it on its port (its `/v2/` paths), as AWS serves it on API Gateway's endpoint."""
        from botocore.config import Config

        from petgate.http_apis import HttpApis

        config = Config(retries={"mode": "standard"}, connect_timeout=5,
                        read_timeout=float(os.environ.get("PETGATE_CONTROL_TIMEOUT") or 30))
        return HttpApis(self.boto3_session().client("apigatewayv2", endpoint_url=self.control_url, config=config))

    def invoke_url(self, api_id: str, stage: str) -> str:
        """The stage's base URL: AWS's execute-api host, or the local URL form."""
        if self.control_url:
            return f"{self.control_url}/restapis/{api_id}/{stage}/_user_request_"
        return f"https://{api_id}.execute-api.{self.resolved_region()}.amazonaws.com/{stage}"

    @property
    def effective_checkip_url(self) -> str:
        if self.checkip_url:
            return self.checkip_url
        if self.local:
            return f"{self.local_url.rstrip('/')}/_petgate/checkip"
        from petgate.checkip import DEFAULT_CHECKIP_URL

        return DEFAULT_CHECKIP_URL

    def http_session(self) -> requests.Session:
        """A requests session whose connections leave from --source-address, if given."""
        import requests
        from requests.adapters import HTTPAdapter

        session = requests.Session()
        session.trust_env = self.kind == "aws"  # never route loopback through a proxy
        if os.environ.get("AWS_CA_BUNDLE"):
            session.verify = os.environ["AWS_CA_BUNDLE"]
        if self.source_address:
            source = (self.source_address, 0)

            class SourceAddressAdapter(HTTPAdapter):
                def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
                    kwargs["source_address"] = source
                    super().init_poolmanager(*args, **kwargs)

            session.mount("http://", SourceAddressAdapter())
            session.mount("https://", SourceAddressAdapter())
        return session
