"""Which passwords an account may be given: long enough and hard to guess.

NIST SP 800-63B, section 5.1.1.2: at least 8 characters, and none that is
commonly used, expected or compromised. The second is judged by zxcvbn
(Dropbox's estimator: lists of common passwords, names and words, and their
usual variations such as ``Passw0rd1``), which also counts the account's own
names and the app's as words a guesser tries first. Signing in checks no
rule: an account keeps working with the password it was given.
"""

from __future__ import annotations

from zxcvbn import zxcvbn

MIN_LENGTH = 8
# zxcvbn's 0-4 scale; 3 is "safely unguessable" (more than 10^8 guesses).
MIN_SCORE = 3
# zxcvbn refuses longer input; the rest of a long password only adds strength.
SCORED_LENGTH = 72
APP_WORDS = ("weiguang", "微光")


def problems(password: str, *related: str) -> list[str]:
    """Return why ``password`` may not be used: empty if it may.

    :param related: what a guesser knows of the account (username, display
        name); counted as easy words, like the app's name.
    """
    if len(password) < MIN_LENGTH:
        return [f"Use at least {MIN_LENGTH} characters."]
    verdict = zxcvbn(password[:SCORED_LENGTH], user_inputs=[*APP_WORDS, *related])
    if verdict["score"] >= MIN_SCORE:
        return []
    warning = verdict["feedback"]["warning"] or "This password is easy to guess."
    return [f"{warning} Choose a longer or less common password, e.g. a few unrelated words."]
