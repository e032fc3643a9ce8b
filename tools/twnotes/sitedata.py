"""The facts the Hugo templates share with the Python side, written once: data/twnotes.json.

The render hooks decide on Markdown links and headings by the same rules as `policy`
(which URLs may be links, the `rel` of an external link, the id prefix, the layouts' own
ids) and show results under the same code blocks that `snippets` runs (its languages).
Rather than a second copy in the templates, they read this file (`hugo.Data.twnotes`). It
is committed, so a plain `hugo server` needs nothing generated; after changing `policy`
or the languages, `python -m twnotes.sitedata` writes it again (tests/test_sitedata.py
fails while it is stale).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from twnotes import policy, util
from twnotes.snippets.extract import PYTHON_LANGUAGES

PATH: Final = Path("data") / "twnotes.json"


def site_data() -> dict[str, Any]:
    """What the templates read, with Go (RE2) spellings of the URL rule's patterns."""
    return {
        "_comment": "written by `python -m twnotes.sitedata` from twnotes.policy; do not edit",
        "url": {
            "controls": policy.char_class(policy.CONTROL_RANGES, go=True),
            "invisible": policy.char_class(policy.INVISIBLE_RANGES, go=True),
            "scheme": "^" + policy.SCHEME_PATTERN,
            "path_start": "[" + policy.PATH_START + "]",
            "schemes": sorted(policy.SAFE_SCHEMES),
            "image_schemes": sorted(policy.IMAGE_SCHEMES),
        },
        "external_rel": policy.EXTERNAL_REL,
        "id_prefix": policy.ID_PREFIX,
        "layout_ids": sorted(policy.LAYOUT_IDS),
        "layout_prefix": policy.LAYOUT_PREFIX,
        "python_languages": sorted(PYTHON_LANGUAGES),
    }


def render() -> str:
    return json.dumps(site_data(), indent=1, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write data/twnotes.json under the working directory; `--check`: exit 1 if stale."""
    args = list(sys.argv[1:] if argv is None else argv)
    wanted = render()
    current = PATH.read_text(encoding="utf-8") if PATH.is_file() else None
    if args == ["--check"]:
        if current != wanted:
            print(f"{PATH} is out of date: run python -m twnotes.sitedata", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        PATH.parent.mkdir(parents=True, exist_ok=True)
        util.atomic_write(PATH, wanted.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
