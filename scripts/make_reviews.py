"""Write configs/data/reviews.csv: short product reviews with a sentiment label, generated from
templates (written for trainctl; CC0, no third-party text).

The label needs word order: "not" flips a clause, and after "but" the second clause decides, so
a bag of words is not enough and a recurrent or attention model has something to learn.

    python scripts/make_reviews.py
"""

import csv
import random
from pathlib import Path

ASPECTS = ["battery", "screen", "camera", "speaker", "keyboard", "case", "charger", "app",
           "price", "delivery", "sound", "design", "strap", "lens", "cable"]
GOOD = ["great", "excellent", "superb", "solid", "reliable", "bright", "fast", "lovely",
        "sturdy", "impressive"]
BAD = ["awful", "poor", "flimsy", "slow", "dim", "useless", "disappointing", "terrible",
       "weak", "cheap"]
ENDINGS = ["", "", "!", ".", ", would buy again", ", avoid", ", as expected", "."]


def clause(rng):
    """(text, positive?) of one clause, sometimes negated."""
    positive = rng.random() < 0.5
    adj = rng.choice(GOOD if positive else BAD)
    aspect = rng.choice(ASPECTS)
    if rng.random() < 0.3:
        return f"the {aspect} is not {adj}", not positive
    return rng.choice([f"the {aspect} is {adj}", f"{adj} {aspect}",
                       f"the {aspect} was really {adj}"]), positive


def review(rng):
    text, positive = clause(rng)
    if rng.random() < 0.4:
        second, positive = clause(rng)  # after "but", the second clause decides
        text = f"{text} but {second}"
    ending = rng.choice(ENDINGS)
    if ending == ", would buy again" and not positive or ending == ", avoid" and positive:
        ending = ""
    return text + ending, "pos" if positive else "neg"


def main():
    rng = random.Random(0)
    out = Path(__file__).resolve().parent.parent / "configs" / "data" / "reviews.csv"
    with open(out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["review", "sentiment"])
        for _ in range(1200):
            writer.writerow(review(rng))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
