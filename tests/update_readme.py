"""Kept for the habit: `python -m tests.update_readme` is `python -m tests.update_docs` (README and rule pages)."""

from tests.update_docs import ROOT, update

if __name__ == "__main__":
    for path in update():
        print(f"updated {path.relative_to(ROOT)}")
