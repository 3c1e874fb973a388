"""The Avro contract between connectors and stream processors.

One `.avsc` per record type. Superseded versions live in `previous/` so that old
records on the topics stay decodable. Fields that can hold personal data carry a
`"pii"` attribute naming the kind; redacted schemas say per field how a kind was
transformed (`"transform"`). The closed sets of both live here, in one place.
"""

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent

# Kinds of personal data a field can carry ("pii" attribute). "none" marks a field
# whose name looks personal but that was reviewed and holds none (its doc says why).
PII_KINDS = frozenset({
    "person_name",      # a natural person's name
    "username",         # a marketplace login or display name of a buyer
    "email",
    "phone",
    "fax",
    "postal_address",   # street lines or a full address
    "location_region",  # ward, district, city or province: generalisable quasi-identifier
    "postal_code",
    "url",              # a link that can identify a person (profile, personal site)
    "card_number",      # always ciphertext from the connector (R10), never the number
    "card_last4",
    "tax_id",           # billing: personal or business tax code
    "customer_id",      # a marketplace's buyer id
    "ip_address",
    "tracking_id",      # cookie or device id
    "date_of_birth",
    "free_text",        # scanned for any of the kinds above
    "raw_payload",      # undecoded original bytes (dead letters): restricted topics only
    "none",
})

# Kinds the free-text scanner finds; downstream sees them as placeholders such as [PHONE].
FREE_TEXT_KINDS = frozenset({
    "EMAIL", "PHONE", "CARD", "TH_NATIONAL_ID", "VN_CITIZEN_ID", "VN_TAX_CODE", "BANK_ACCOUNT",
    "IP_ADDRESS", "URL", "CHAT_ID",
    "ADDRESS",  # a street address: house number, street/area markers, postal code (one placeholder)
    "NAME", "HANDLE", "TRACKING_NUMBER",  # a person's name, a social handle, a carrier's tracking number
})

# How a redacted schema says a raw personal field was transformed. A raw field that
# was dropped is simply absent from the redacted schema.
TRANSFORMS = frozenset({"pseudonym", "mask", "generalise", "encrypt", "scan"})


def event_id(marketplace: str, entity: str, entity_id: str, update_time_ms: int) -> str:
    """The deterministic id of one version of one entity: a re-read gives the same id."""
    import hashlib

    material = f"{marketplace.lower()}|{entity}|{entity_id}|{update_time_ms}".encode("utf-8")
    return hashlib.sha256(material).hexdigest()[:32]
