"""Regenerate the "`torch.*` namespace, name by name" section of ``docs/pytorch.md``.

The section lists which of torch 2.13's public names (``tests/golden/torch_names.json``) trainctl
implements, and each refusal's wording with the names it covers (from
``trainctl/torch_compat/refused.py`` and ``unsupported.py``). It sits between the
``<!-- torch-names:begin -->`` and ``<!-- torch-names:end -->`` markers;
``tests/test_torch_names.py`` fails when it is out of date.

Run from anywhere: ``python scripts/torch_names_doc.py`` prints it, ``--write`` updates the page.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import trainctl as tc  # noqa: E402
from trainctl.torch_compat import refused, special, unsupported  # noqa: E402

PAGE = ROOT / "docs" / "pytorch.md"
BEGIN, END = "<!-- torch-names:begin -->", "<!-- torch-names:end -->"
KINDS = ("functions", "classes", "modules", "dtypes")


def implemented(name: str) -> bool:
    try:
        getattr(tc, name)
    except unsupported.UnsupportedFeatureError:
        return False
    return True


def names(items, width: int = 99) -> str:
    return "\n".join(textwrap.wrap(", ".join(f"`{n}`" for n in items), width))


def prose(text: str) -> str:
    return textwrap.fill(text, 99, break_on_hyphens=False)


def refusal_lines(groups, kind: str) -> list[str]:
    lines = []
    for what, instead, listed in groups:
        listed = listed.split()
        if kind == "dtype":
            feature = "the torch.{name} dtype" + (f" ({what})" if what != listed[0] else "")
        else:
            feature = f"torch.{{name}} ({what})"
        line = unsupported.message(feature, instead)
        lines += [f"- `{line}`:", textwrap.indent(names(listed, 97), "  "), ""]
    return lines


def own_lines(table: dict) -> list[str]:
    return [f"- `{name}`: `{unsupported.message(*entry)}`" for name, entry in table.items()]


def section() -> str:
    """The text between the markers."""
    fixture = json.loads((ROOT / "tests" / "golden" / "torch_names.json").read_text())
    done = {k: [n for n in fixture[k] if implemented(n)] for k in KINDS}
    done["special"] = [n for n in fixture["special"] if n not in special.REFUSED]
    count = {k: (len(done[k]), len(fixture[k]) - len(done[k])) for k in (*KINDS, "special")}
    lines = [
        "## The `torch.*` namespace, name by name",
        "",
        prose(f"`tests/golden/torch_names.json` lists the public names of torch "
              f"{fixture['torch'].split('+')[0]}'s `torch` namespace: "
              f"{len(fixture['functions'])} functions, {len(fixture['classes'])} classes, "
              f"{len(fixture['modules'])} submodules and {len(fixture['dtypes'])} dtypes, and the "
              f"{len(fixture['special'])} functions of `torch.special` (the "
              "rule is in `tests/golden/gen_torch_names.py`). `tests/test_torch_names.py` checks "
              "that `tc` implements each one or refuses it with the one-line error, and that "
              "this section (written by `python scripts/torch_names_doc.py --write`) is up to "
              "date."),
        "",
        "| torch names | functions | classes | submodules | dtypes | `torch.special` |",
        "|---|---|---|---|---|---|",
        "| implemented by `tc` | " + " | ".join(str(count[k][0]) for k in count) + " |",
        "| refused | " + " | ".join(str(count[k][1]) for k in count) + " |",
        "",
        "### Implemented",
        "",
        "Functions:", names(done["functions"]) + ".", "",
        "Classes:", names(done["classes"]) + ".", "",
        "Submodules: " + names(done["modules"]) + ".", "",
        "Dtypes: " + names(done["dtypes"]) + ".", "",
        "`tc.special`: " + names(done["special"]) + ".", "",
        "### Refused",
        "",
        prose("A refused name raises `UnsupportedFeatureError` with one line, `<feature> is not "
              "supported by trainctl: <what to do instead>`, on `tc.<name>` (an "
              "`AttributeError` too, so `hasattr` answers False) and on "
              "`from trainctl import <name>` or `import trainctl.<name>` (an `ImportError` "
              "too). Each group's wording follows, `{name}` standing for the name."),
        "",
        "Functions:", "",
        *refusal_lines(refused.FUNCTION_GROUPS, "function"),
        "Classes and constants:", "",
        *refusal_lines(refused.CLASS_GROUPS, "class"),
        "Dtypes:", "",
        *refusal_lines(refused.DTYPE_GROUPS, "dtype"),
        "Features and submodules with a line of their own (`tc.<name>`, "
        "`import trainctl.<name>`):",
        "",
        *own_lines(unsupported.TOP_LEVEL),
        "",
        "Deeper submodules (`import trainctl.<path>`, `from trainctl.<path> import ...`):",
        "",
        *own_lines(unsupported.SUBMODULES),
        "",
        "In `tc.cuda` (`tc.cuda.<name>`, `from trainctl.cuda import <name>`):",
        "",
        *own_lines(unsupported.CUDA),
        "",
        "In `tc.special` (`tc.special.<name>`, `from trainctl.special import <name>`):",
        "",
        *own_lines(special.REFUSED),
    ]
    return "\n".join(lines) + "\n"


def current() -> str:
    """The text between the markers in ``docs/pytorch.md`` now."""
    text = PAGE.read_text()
    return text[text.index(BEGIN) + len(BEGIN) + 1:text.index(END)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/pytorch.md")
    args = parser.parse_args(argv)
    text = section()
    if not args.write:
        print(text, end="")
        return 0
    page = PAGE.read_text()
    start, stop = page.index(BEGIN) + len(BEGIN) + 1, page.index(END)
    PAGE.write_text(page[:start] + text + page[stop:])
    print(f"updated {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
