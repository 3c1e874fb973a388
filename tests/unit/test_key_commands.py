"""Where the key store lives, `keys status|rotate-master` and `decrypt` without a broker."""

from __future__ import annotations

import argparse
import base64
import json
import stat

import pytest

from powersell import cli
from pipeline_core.settings import Settings
from streams import key_commands
from streams.access import MemoryAuditLog, ReasonRequired
from streams.key_commands import (SubjectErased, add_commands, keystore_dir, latest_record, open_keystore)
from pipeline_core.keystore import KeyStoreError, LocalKeyStore

PLAIN = b"lan.nguyen.shop@gmail.com"
SUBJECTS = ("shopee:220145871", "lazada:100042", "tiktok_shop:7495")
REASON = "SUP-4711 seller asked"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.delenv("POWERSELL_KEYSTORE_DIR", raising=False)
    return Settings.from_env({"POWERSELL_DATA_DIR": str(tmp_path / "data")})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="powersell-pipeline")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(settings, argv) -> int:
    args = _parser().parse_args(argv)
    return args.func(args, settings)


def _main_with_our_commands(monkeypatch, argv) -> int:
    """powersell.cli.main, with keys/decrypt registered if cli.py does not register them yet."""
    original = cli.build_parser

    def build():
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "decrypt" not in sub.choices:
            add_commands(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    return cli.main(argv)


# ---------------------------------------------------------------- where
def test_when_no_env_is_set_then_the_store_is_under_the_data_dir_and_private(settings):
    store = open_keystore(settings)
    folder = settings.data_dir / "keys" / "keystore"
    assert store.path.parent == folder == keystore_dir(settings)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_when_the_env_names_a_folder_then_every_caller_gets_that_store(settings, tmp_path, monkeypatch):
    monkeypatch.setenv("POWERSELL_KEYSTORE_DIR", str(tmp_path / "elsewhere"))
    sealed = open_keystore(settings).seal(SUBJECTS[0], PLAIN)
    assert any((tmp_path / "elsewhere" / "keys").iterdir())
    assert LocalKeyStore.in_dir(tmp_path / "elsewhere").open(SUBJECTS[0], sealed) == PLAIN
    assert not (settings.data_dir / "keys").exists()


def test_when_an_existing_folder_is_named_then_its_mode_is_left_alone(settings, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.setenv("POWERSELL_KEYSTORE_DIR", str(shared))
    open_keystore(settings)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


@pytest.mark.parametrize("argv", [["keys", "status"], ["keys", "rotate-master"],
                                  ["decrypt", SUBJECTS[0], "--reason", REASON, "--ciphertext", "AAAA"]])
def test_when_there_is_no_store_then_reading_commands_fail_instead_of_making_a_new_master_key(settings, argv):
    with pytest.raises(KeyStoreError, match="no key store"):
        _run(settings, argv)
    assert not (settings.data_dir / "keys" / "keystore" / "master-keys.json").exists()


# ---------------------------------------------------------------- keys status / rotate-master
def _status(settings, capsys, action="status") -> dict:
    assert _run(settings, ["keys", action]) == 0
    return json.loads(capsys.readouterr().out)


def test_when_status_is_printed_then_it_counts_keys_and_names_no_subject_and_no_key(settings, capsys):
    store = open_keystore(settings)
    for subject in SUBJECTS:
        store.seal(subject, PLAIN)
    store.destroy(SUBJECTS[2])
    out = _status(settings, capsys)
    assert (out["data_keys"], out["destroyed_keys"], out["master_current_version"], out["master_versions"]) == (
        2, 1, 1, [1])
    assert out["master_key_id"].startswith("mk_") and out["data_keys_wrapped_under_master_version"] == {"1": 2}
    text = json.dumps(out)
    assert "dk_" not in text and not any(part in text for s in SUBJECTS for part in s.split(":"))


def test_when_the_master_rotates_then_a_running_worker_still_opens_old_and_new_ciphertexts(settings, capsys):
    worker = open_keystore(settings)        # a long-running process: keys cached, old master loaded
    old = worker.seal(SUBJECTS[0], PLAIN)
    assert worker.open(SUBJECTS[0], old) == PLAIN
    out = _status(settings, capsys, "rotate-master")  # another process: the command opens its own store
    assert (out["master_current_version"], out["master_versions"]) == (2, [2])
    assert out["data_keys_wrapped_under_master_version"] == {"2": 1}
    new = worker.seal(SUBJECTS[1], PLAIN)   # a new subject's key is wrapped under version 2, no restart
    assert _status(settings, capsys)["data_keys_wrapped_under_master_version"] == {"2": 2}
    for reader in (worker, open_keystore(settings)):
        assert reader.open(SUBJECTS[0], old) == reader.open(SUBJECTS[1], new) == PLAIN


def test_when_a_worker_started_before_the_rotation_opens_its_first_key_after_it_then_that_works(settings, capsys):
    old = open_keystore(settings).seal(SUBJECTS[0], PLAIN)
    idle_worker = open_keystore(settings)   # loaded the files, no key cached yet
    _status(settings, capsys, "rotate-master")
    assert idle_worker.open(SUBJECTS[0], old) == PLAIN


# ---------------------------------------------------------------- decrypt
@pytest.mark.parametrize("pairs, expected", [
    ([], None),
    ([(b"s", b"v1"), (b"s", b"v2")], b"v2"),
    ([(b"s", b"v1"), (b"s", None)], None),
    ([(b"s", None), (b"s", b"v3")], b"v3"),
    ([(b"s", b"v1"), (b"other", b"x"), (b"s:2", b"y"), (None, b"z")], b"v1"),
])
def test_when_a_compacted_topic_is_read_then_the_last_value_for_the_key_wins(pairs, expected):
    assert latest_record(pairs, "s") == expected


class ClosableMemoryAuditLog(MemoryAuditLog):
    def close(self):
        pass


@pytest.fixture
def audit(monkeypatch) -> MemoryAuditLog:
    log = ClosableMemoryAuditLog()
    monkeypatch.setattr(key_commands, "KafkaAuditLog", lambda settings: log)
    monkeypatch.setattr(key_commands, "_broker_down", lambda settings: None)
    return log


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize("prefix", ["", "base64:"])
def test_when_a_ciphertext_is_given_then_its_value_is_printed_after_its_audit(settings, audit, capsys, prefix):
    sealed = open_keystore(settings).seal(SUBJECTS[0], PLAIN)
    assert _run(settings, ["decrypt", SUBJECTS[0], "--reason", REASON, "--actor", "support.linh",
                           "--ciphertext", prefix + _b64(sealed)]) == 0
    assert json.loads(capsys.readouterr().out) == {"subject": SUBJECTS[0], "field": "given-ciphertext",
                                                  "value": PLAIN.decode()}
    assert [(r["actor"], r["field"], r["reason"], r["outcome"]) for r in audit.records] == [
        ("support.linh", "given-ciphertext", REASON, "DECRYPTED")]


def test_when_no_actor_is_given_then_the_login_name_is_audited(settings, audit, capsys, monkeypatch):
    monkeypatch.setenv("USER", "linh")
    sealed = open_keystore(settings).seal(SUBJECTS[0], PLAIN)
    _run(settings, ["decrypt", SUBJECTS[0], "--reason", REASON, "--ciphertext", _b64(sealed)])
    assert audit.records[0]["actor"] == "linh"


def test_when_the_subject_was_erased_then_it_says_so_and_the_attempt_is_audited(settings, audit, capsys):
    store = open_keystore(settings)
    sealed = store.seal(SUBJECTS[0], PLAIN)
    store.destroy(SUBJECTS[0])
    with pytest.raises(SubjectErased, match="^the subject was erased; its data key is destroyed$"):
        _run(settings, ["decrypt", SUBJECTS[0], "--reason", REASON, "--ciphertext", _b64(sealed)])
    assert [r["outcome"] for r in audit.records] == ["KEY_DESTROYED"] and capsys.readouterr().out == ""


@pytest.mark.parametrize("extra", [[], ["--reason", ""], ["--reason", "  why  "]])
def test_when_the_reason_is_missing_then_nothing_is_read_and_the_refusal_is_audited(settings, audit, extra):
    with pytest.raises(ReasonRequired):  # raised before the key store is even looked for
        _run(settings, ["decrypt", SUBJECTS[0], "--ciphertext", "AAAA", *extra])
    assert [(r["outcome"], r["subject_id"]) for r in audit.records] == [("REFUSED", SUBJECTS[0])]


@pytest.mark.parametrize("argv, message", [
    (["decrypt", SUBJECTS[0]], "reason of at least 8 characters"),
    (["decrypt", SUBJECTS[0], "--reason", REASON, "--ciphertext", "not base64!"], "--ciphertext must be base64"),
])
def test_when_run_through_main_then_errors_are_one_line_and_exit_2(settings, audit, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("POWERSELL_DATA_DIR", str(settings.data_dir))
    open_keystore(settings)
    assert _main_with_our_commands(monkeypatch, argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_when_help_is_asked_then_it_says_every_use_is_audited(capsys):
    with pytest.raises(SystemExit):
        _parser().parse_args(["decrypt", "--help"])
    assert "EVERY USE IS AUDITED" in capsys.readouterr().out


def _closed_port() -> int:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_when_the_broker_is_down_then_decrypt_answers_with_one_line_and_no_library_logs(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("POWERSELL_KEYSTORE_DIR", raising=False)
    monkeypatch.setenv("POWERSELL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("POWERSELL_KAFKA_PORT", str(_closed_port()))
    open_keystore(Settings.from_env())
    assert _main_with_our_commands(monkeypatch, ["decrypt", SUBJECTS[0], "--reason", REASON]) == 2
    captured = capsys.readouterr()
    assert "does not answer" in captured.err and captured.err.count("\n") == 1 and captured.out == ""
