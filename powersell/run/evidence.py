"""What `run` reads back to prove its points: the workers' metrics, and the key store's view of
the raw records (which personal values they hold, whether a shop's sealed fields still open)."""

from __future__ import annotations

import re

from pipeline_core.sealing import SealingError

SHOP_SEALED = ("raw.shops", "raw.products")  # every sealed field of these is sealed under the shop's key


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} from a process's /metrics; empty when it does not answer."""
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return {}
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def metric_total(samples, name: str, **labels) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items()))


def personal_values(registry, records) -> set[str]:
    """Every string this run's raw events hold in fields tagged as personal (free text excluded:
    it is mostly not personal; what the scanner finds in it is checked by the leak test)."""
    values: set[str] = set()

    def walk(schema, value, named):
        if isinstance(schema, list):
            for branch in schema:
                if branch != "null":
                    walk(branch, value, named)
            return
        if isinstance(schema, str):
            schema = named.get(schema, schema)
        if isinstance(schema, dict) and schema.get("type") == "record" and isinstance(value, dict):
            named[f"{schema.get('namespace', '')}.{schema['name']}"] = schema
            for field in schema["fields"]:
                kind = field.get("pii")
                v = value.get(field["name"])
                if kind not in (None, "none", "free_text", "card_last4", "location_region"):
                    for item in (v if isinstance(v, list) else [v]):
                        if _distinctive(item):
                            values.add(item)
                walk(field["type"], v, named)
        elif isinstance(schema, dict) and schema.get("type") == "array" and isinstance(value, list):
            for item in value:
                walk(schema["items"], item, named)

    for name, record in records:
        walk(registry.definition(name), record, {})
    return values


def record_sealer(settings, registry):
    """Opens raw records' sealed fields with the key store of this data dir, as the privacy worker does."""
    from pipeline_core.keystore import open_keystore
    from pipeline_core.pseudonyms import pipeline_pseudonym_key
    from pipeline_core.sealing import RecordSealer

    return RecordSealer(open_keystore(settings), pipeline_pseudonym_key(settings.data_dir), registry)


def opened_raw(sealer, decoded_raw) -> list[tuple[str, dict]]:
    """(schema, record) of the raw events with their sealed fields opened, to know which personal values
    to look for; a record of an erased subject cannot be opened and is left out."""
    out = []
    for _, name, record in decoded_raw:
        try:
            out.append((name, sealer.open(name, record)))
        except SealingError:
            continue
    return out


def shop_records_opened(sealer, decoded_raw, subject: str) -> tuple[int, int]:
    """(the shop's raw shop and product records that hold sealed fields, how many of them open now).
    Orders are left out: most of their sealed fields are their buyer's, whose key the shop's erasure keeps."""
    marketplace, shop_id = subject.split(":", 1)
    sealed = opened = 0
    for topic_name, name, record in decoded_raw:
        if topic_name not in SHOP_SEALED or str(record.get("marketplace", "")).lower() != marketplace \
                or str(record.get("shop_id")) != shop_id:
            continue
        if not any(isinstance(v, bytes) for v in _values(record)):
            continue  # nothing sealed in it (e.g. a shop event without seller details)
        sealed += 1
        try:
            sealer.open(name, record)
            opened += 1
        except SealingError:
            pass
    return sealed, opened


def _values(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _values(v)
    elif isinstance(value, list):
        for v in value:
            yield from _values(v)
    else:
        yield value


WORD = re.compile(r"\w+")


def found_in(values, texts) -> list[str]:
    """The values that occur in one of the texts as a whole: not inside a longer word or number (a
    nine-digit phone number inside a nineteen-digit product id is not a leak). Every word of a value
    found that way is also a whole word of the texts, so a value is searched only in the texts that
    hold its rarest word: fast over tens of thousands of values and records."""
    texts = list(set(texts))
    holding: dict[str, list[int]] = {}  # word -> the texts it is a whole word of
    for i, text in enumerate(texts):
        for word in set(WORD.findall(text)):
            holding.setdefault(word, []).append(i)
    found = []
    for value in values:
        tokens = WORD.findall(value)
        if not tokens or not all(t in holding for t in tokens):
            continue
        pattern = re.compile((r"(?<!\w)" if WORD.match(value[0]) else "") + re.escape(value) + (
            r"(?!\w)" if WORD.match(value[-1]) else ""))
        rarest = min(tokens, key=lambda t: len(holding[t]))
        if any(pattern.search(texts[i]) for i in holding[rarest]):
            found.append(value)
    return found


def texts_of(value):
    """Every string inside a decoded record (sealed fields are bytes: not text anyone can read)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from texts_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from texts_of(v)


def _distinctive(value) -> bool:
    """Worth scanning for: short numbers such as postal codes also occur as prices and counts."""
    if not isinstance(value, str) or len(value) < 6:
        return False
    digits = sum(ch.isdigit() for ch in value)
    return not (digits == len(value) and digits < 9)


