"""IPv4 and IPv6 addresses that can point at a subscriber, checked with `ipaddress`. A
dotted quad after a version word ("firmware 2.1.0.15") or before a currency is not an
address, and private, loopback and documentation addresses ("192.168.0.1") point at
nobody."""

from __future__ import annotations

import ipaddress
import re

from .base import PatternDetector, ScanText
from .context import Context, looks_like_money

_IPV4 = re.compile(r"(?:(?<![0-9A-Za-z.])|(?<=IP)|(?<=ip))[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![0-9]|\.[0-9])")
_IPV6 = re.compile(r"(?<![0-9A-Za-z:.])(?=[0-9A-Fa-f:]*::?[0-9A-Fa-f]*:)[0-9A-Fa-f:]{2,39}"
                   r"(?:(?<=:)[0-9]{1,3}(?:\.[0-9]{1,3}){3})?(?![0-9A-Za-z:])")
_IPV4_HINT = re.compile(r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]")
_VERSION = Context(("ver", "version", "phiên bản", "phien ban", "firmware", "fw", "build", "bản", "เวอร์ชัน",
                    "เวอร์ชั่น", "เฟิร์มแวร์", "ios", "android", "rom", "bios"), before=14)


class IpAddressDetector(PatternDetector):
    kind = "IP_ADDRESS"
    priority = 40
    patterns = (_IPV4, _IPV6)

    def applies(self, t: ScanText) -> bool:
        text = t.text
        # three dots (IPv4) or two colons (IPv6) before any search: most texts have neither
        return (text.count(".") >= 3 and _IPV4_HINT.search(text) is not None) or (
            text.count(":") >= 2 and _IPV6.search(text) is not None)

    def validate(self, value: str) -> bool:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return False
        # a LAN, loopback or documentation address (a router's 192.168.0.1) points at nobody;
        # carrier-grade NAT addresses (100.64.0.0/10) can, with the carrier's logs
        return not (address.is_private or address.is_loopback or address.is_link_local or address.is_multicast
                    or address.is_unspecified or address.is_reserved)

    def accept(self, t: ScanText, start: int, end: int) -> bool:
        if ":" in t.text[start:end]:
            return True
        return not _VERSION.ahead(t, start) and not looks_like_money(t, start, end)
