"""The Python module's speed, side by side in one session: a table of ROWS
predictions made by `predbench.generate` into a pyarrow.Table, by the
`predbench generate` command writing the same rows, and by the seed's
numpy/pandas generator (scripts/peers/seed_generator.py, the peers' venv).
Each is a process of its own, run RUNS times interleaved under
/usr/bin/time -v (wall, user, system, peak RSS); the record goes to
results/python-<UTC time>/record.json.

Run by scripts/bench-python.sh, which installs the release wheel into its venv:
    bench_python.py --rows 10000000 --runs 3 --peers-venv ~/.local/share/predbench/venv-peers
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent

# The in-memory table, timed inside the process too (import excluded).
IN_MEMORY = """
import sys, time
import predbench
started = time.perf_counter()
table = predbench.generate(int(sys.argv[1]))
seconds = time.perf_counter() - started
print(f"generate_seconds={seconds:.3f} table_bytes={table.nbytes} rows={table.num_rows}")
"""


def timed(command, env=None):
    """Runs `command` under /usr/bin/time -v: its measures and stdout."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed:\n{done.stderr[-3000:]}")
    fields = dict(
        line.strip().rsplit(": ", 1) for line in done.stderr.splitlines() if ": " in line
    )
    wall = fields["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    seconds = 0.0
    for part in wall.split(":"):
        seconds = seconds * 60 + float(part)
    return {
        "wall_seconds": round(seconds, 3),
        "user_seconds": float(fields["User time (seconds)"]),
        "system_seconds": float(fields["System time (seconds)"]),
        "peak_rss_bytes": int(fields["Maximum resident set size (kbytes)"]) * 1024,
    }, done.stdout


def version_of(python, module):
    done = subprocess.run(
        [python, "-c", f"import {module}; print({module}.__version__)"],
        capture_output=True,
        text=True,
    )
    return done.stdout.strip() or None


def machine():
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpu": model, "cores": os.cpu_count(), "memory_bytes": memory,
            "os": platform.platform()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--peers-venv", type=Path, default=Path.home() / ".local/share/predbench/venv-peers")
    parser.add_argument("--data-dir", type=Path, default=REPOSITORY / "data")
    arguments = parser.parse_args()

    python = sys.executable
    command = shutil.which("predbench")
    seed_python = str(arguments.peers_venv / "bin" / "python")
    seed_script = str(REPOSITORY / "scripts" / "peers" / "seed_generator.py")
    arguments.data_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    for run in range(1, arguments.runs + 1):
        with tempfile.TemporaryDirectory(dir=arguments.data_dir) as scratch:
            measures, out = timed([python, "-c", IN_MEMORY, str(arguments.rows)])
            found = dict(re.findall(r"(\w+)=([\d.]+)", out))
            runs.append({"name": "predbench.generate (pyarrow.Table)", "run": run, **measures,
                         "in_process_seconds": float(found["generate_seconds"]),
                         "table_bytes": int(found["table_bytes"])})
            measures, _ = timed([command, "generate", "--rows", str(arguments.rows),
                                 "--out", f"{scratch}/predbench", "--quiet"])
            runs.append({"name": "predbench generate (files)", "run": run, **measures})
            measures, _ = timed([seed_python, seed_script, "--rows", str(arguments.rows),
                                 "--output", f"{scratch}/seed"])
            runs.append({"name": "seed generator (numpy/pandas, files)", "run": run, **measures})
        print(f"run {run}: " + ", ".join(
            f"{r['name']} {r['wall_seconds']:.2f} s" for r in runs if r["run"] == run))

    session = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=REPOSITORY).stdout.strip()
    changes = subprocess.run(["git", "status", "--porcelain", "--", "python", "scripts",
                              "generator", "exporter", "common", "bench", "Cargo.toml"],
                             capture_output=True, text=True, cwd=REPOSITORY).stdout.strip()
    medians = {}
    for name in dict.fromkeys(r["name"] for r in runs):
        mine = [r for r in runs if r["name"] == name]
        medians[name] = {key: statistics.median(r[key] for r in mine)
                         for key in ("wall_seconds", "user_seconds", "system_seconds",
                                     "peak_rss_bytes")}
    table = medians["predbench.generate (pyarrow.Table)"]["wall_seconds"]
    record = {
        "session": session,
        "commit": commit,
        # Sources changed or not yet committed when the wheel was built.
        "uncommitted_changes": bool(changes),
        "rows": arguments.rows,
        "runs_each": arguments.runs,
        "machine": machine(),
        "versions": {
            "predbench": version_of(python, "predbench"),
            "python": platform.python_version(),
            "pyarrow": version_of(python, "pyarrow"),
            "seed generator's pandas": version_of(seed_python, "pandas"),
            "seed generator's numpy": version_of(seed_python, "numpy"),
        },
        "runs": runs,
        "medians": medians,
        "ratios_of_medians_wall": {
            "seed generator / predbench.generate":
                round(medians["seed generator (numpy/pandas, files)"]["wall_seconds"] / table, 2),
            "predbench.generate / predbench generate":
                round(table / medians["predbench generate (files)"]["wall_seconds"], 2),
        },
    }
    directory = REPOSITORY / "results" / f"python-{session.replace(':', '-')}"
    directory.mkdir(parents=True)
    (directory / "record.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["ratios_of_medians_wall"], indent=2))
    print(f"recorded in {directory / 'record.json'}")


if __name__ == "__main__":
    main()
