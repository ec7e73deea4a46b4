"""Every setting is documented: each field of the one settings object has its row in the
README's settings table, named as the environment variable a person sets."""

from __future__ import annotations

import re

from guidefund.settings import PROJECT_ROOT, Settings


def test_every_setting_has_a_row_in_the_readme_settings_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(GUIDEFUND_[A-Z0-9_]+)` \|", readme, re.M))
    wanted = {f"GUIDEFUND_{name.upper()}" for name in Settings.model_fields}
    assert sorted(wanted - documented) == []
