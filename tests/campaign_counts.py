"""Count a campaign's log (``CAMPAIGN_LOG=FILE``): command lines by command and exit code, distinct
ones, and every problem found.

    CAMPAIGN_LOG=campaign.jsonl CAMPAIGN_EXAMPLES=5000 python -m pytest tests/test_campaign.py
    python tests/campaign_counts.py campaign.jsonl
"""

from __future__ import annotations

import collections
import json
import sys

# TARGETs of the campaign that name no model at all (tests/campaign.py, HOSTILE_TARGETS).
NO_MODEL = (
    "os:",
    "posix:",
    "sys:",
    "builtins:",
    "shutil:",
    "subprocess:",
    "pathlib:",
    "torch.hub:",
    "torch:",
    "io:",
)


def main(path: str) -> int:
    by_command: collections.Counter[str] = collections.Counter()
    by_code: collections.Counter[str] = collections.Counter()
    hostile = 0
    distinct: set[tuple[str, ...]] = set()
    problems: list[dict[str, object]] = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            args = record["args"]
            command = args[0] if args else "(none)"
            by_command[command] += 1
            by_code[str(record["code"])] += 1
            target = args[1] if command == "model" and len(args) > 1 else ""
            hostile += "hostile" in target or target.startswith(NO_MODEL)
            distinct.add(tuple(args))
            if record["problems"]:
                problems.append(record)
    total = sum(by_command.values())
    print(f"{total} command lines ({len(distinct)} distinct), {len(problems)} with a problem")
    print("by command: " + ", ".join(f"{name} {count}" for name, count in by_command.most_common()))
    print("by exit code: " + ", ".join(f"{code}: {count}" for code, count in sorted(by_code.items())))
    print(f"hostile TARGETs (tests/models/hostile.py, os:system, ...) among the model lines: {hostile}")
    kinds = collections.Counter((str(r["args"][0]), problem) for r in problems for problem in r["problems"])
    for (command, problem), count in kinds.most_common():
        print(f"problem: {command}: {problem} ({count} lines)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
