"""Regenerate every PyTorch golden fixture in this folder (needs torch: pip install torch==2.13.0).

Each ``gen_*.py`` beside this file writes the fixtures of one part of the library; the tests read
them without torch. Run ``make golden`` (or ``python tests/golden/make_golden.py [names...]``).
"""

import importlib.util
import pathlib
import sys

HERE = pathlib.Path(__file__).parent


def main(names):
    for path in sorted(HERE.glob("gen_*.py")):
        if names and path.stem.removeprefix("gen_") not in names:
            continue
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"{path.name}: writing fixtures")
        module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
