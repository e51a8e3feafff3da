#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Summarise kiln's test runs.

Reads meson's testlog.json files (one per build: the normal one and the
sanitizer one), counts TAP test cases (not files), prints per-suite counts,
the conformance counts per data set, and ends with the line
"N passed, N failed" that CI reads. Exit status 1 when anything failed.
"""
import json
import re
import sys

TAP_LINE = re.compile(r"^(not ok|ok)\b(?:\s+\d+)?\s*-?\s*(.*)$")
CONF_LINE = re.compile(r"^# conformance (\S+) (?:(\d+)/(\d+)|(ABSENT.*))$")


def count_tap(stdout):
    passed = failed = skipped = 0
    failures = []
    planned = None
    for line in stdout.splitlines():
        m = TAP_LINE.match(line)
        if m:
            status, desc = m.groups()
            if status == "ok":
                if "# SKIP" in desc:
                    skipped += 1
                else:
                    passed += 1
            else:
                if "# TODO" in desc:
                    continue
                failed += 1
                failures.append(desc)
            continue
        pm = re.match(r"^1\.\.(\d+)", line)
        if pm:
            planned = int(pm.group(1))
    return passed, failed, skipped, failures, planned


def main(args):
    total_pass = total_fail = total_skip = 0
    paths = []
    extra_failures = []
    it = iter(args)
    for a in it:
        if a == "--failure":
            extra_failures.append(next(it))
        else:
            paths.append(a)
    suites = {}
    conformance = {}
    absent = []
    failed_names = []
    for path in paths:
        label = "asan+ubsan" if "asan" in path else "normal"
        try:
            with open(path) as f:
                lines = f.readlines()
        except OSError as e:
            print(f"summary: cannot read {path}: {e}")
            total_fail += 1
            continue
        for raw in lines:
            rec = json.loads(raw)
            name = rec.get("name", "?")
            # meson names tests "<project>:<suite> / <name>"
            suite = name.split(" / ")[0].split(":")[-1] if " / " in name else "?"
            out = rec.get("stdout") or ""
            p, fl, sk, fails, planned = count_tap(out)
            result = rec.get("result", "")
            # A binary that crashed or exited non-zero without a failing case,
            # or that printed fewer cases than planned, counts as one failure.
            if result not in ("OK", "SKIP", "EXPECTEDFAIL") and fl == 0:
                fl = 1
                fails.append(f"exit status {rec.get('returncode')} ({result})")
            if planned is not None and planned != p + fl + sk and fl == 0:
                fl = 1
                fails.append(f"planned {planned} cases, saw {p + fl + sk}")
            key = f"{suite} ({label})"
            s = suites.setdefault(key, [0, 0, 0])
            s[0] += p
            s[1] += fl
            s[2] += sk
            total_pass += p
            total_fail += fl
            total_skip += sk
            for fdesc in fails:
                failed_names.append(f"{key} {name}: {fdesc}")
            if label == "normal":
                for line in out.splitlines():
                    m = CONF_LINE.match(line)
                    if not m:
                        continue
                    if m.group(4):
                        absent.append(m.group(1))
                    else:
                        c = conformance.setdefault(m.group(1), [0, 0])
                        c[0] += int(m.group(2))
                        c[1] += int(m.group(3))

    for what in extra_failures:
        total_fail += 1
        failed_names.append(what)
    print("")
    print("== kiln test summary ==")
    for key in sorted(suites):
        p, fl, sk = suites[key]
        extra = f", {sk} skipped" if sk else ""
        print(f"  {key:28} {p} passed, {fl} failed{extra}")
    if conformance or absent:
        print("conformance (peer test data):")
        for name in sorted(conformance):
            ok, tot = conformance[name]
            print(f"  {name} {ok}/{tot}")
    if absent:
        print("")
        print("!" * 72)
        print("!! CONFORMANCE DATA ABSENT for: " + ", ".join(sorted(set(absent))))
        print("!! set KILN_CONFORMANCE_DIR or place the data in ../shared/conformance")
        print("!" * 72)
    if failed_names:
        print("failures:")
        for n in failed_names[:200]:
            print("  " + n)
    if total_skip:
        print(f"({total_skip} skipped: a prerequisite was missing; see the TAP logs)")
    print(f"{total_pass} passed, {total_fail} failed")
    return 1 if total_fail else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
