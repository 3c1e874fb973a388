"""Redaction actions, one small module each, registered here by name. Which action applies
to which kind of personal data is policy, in streams/policy.json.

    drop        nothing is kept                         (drop.py)
    mask        the last digits only                    (mask.py)
    pseudonym   keyed HMAC-SHA256, stable across topics (pseudonym.py)
    generalise  province, IP network, year of birth     (generalise.py)
    encrypt     AES-256-GCM under the subject's key     (encrypt.py)
    scan        free text with findings replaced        (scan.py)
    keep        reviewed fields that hold nothing personal (keep.py)
"""

from __future__ import annotations

from typing import Literal

from .base import Action, ActionConfigError, ActionContext, ActionError, Scanner
from .drop import DropAction
from .encrypt import EncryptAction
from .generalise import GeneraliseAction
from .keep import KeepAction
from .mask import MaskAction
from .pseudonym import PseudonymAction, pseudonymise
from .scan import ScanAction

ActionName = Literal["drop", "mask", "pseudonym", "generalise", "encrypt", "scan", "keep"]

ACTIONS: dict[str, type[Action]] = {
    action.name: action
    for action in (DropAction, MaskAction, PseudonymAction, GeneraliseAction, EncryptAction, ScanAction, KeepAction)
}

__all__ = ["ACTIONS", "Action", "ActionConfigError", "ActionContext", "ActionError", "ActionName", "DropAction",
           "EncryptAction", "GeneraliseAction", "KeepAction", "MaskAction", "PseudonymAction", "ScanAction",
           "Scanner", "pseudonymise"]
