"""``python -m events.catalogue lock``: record the digest of every new schema version; never alter a released one."""

from __future__ import annotations

import json
import sys

from events.catalogue import LOCK_FILE, SCHEMA_DIR, file_digest


def main(argv: list[str]) -> int:
    if argv != ["lock"]:
        print("usage: python -m events.catalogue lock", file=sys.stderr)
        return 2
    locked: dict[str, str] = json.loads(LOCK_FILE.read_text()) if LOCK_FILE.exists() else {}
    changed = [
        p.name for p in sorted(SCHEMA_DIR.glob("*.json")) if p.name in locked and locked[p.name] != file_digest(p)
    ]
    if changed:
        print("refusing: released schema versions changed: " + ", ".join(changed) + " (add a new version instead)",
              file=sys.stderr)  # fmt: skip
        return 2
    added = {p.name: file_digest(p) for p in sorted(SCHEMA_DIR.glob("*.json")) if p.name not in locked}
    LOCK_FILE.write_text(json.dumps({**locked, **added}, indent=2, sort_keys=True) + "\n")
    print(f"locked {len(added)} new schema version(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
