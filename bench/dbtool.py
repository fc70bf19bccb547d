#!/usr/bin/env python3
"""dbtool against its floors, side by side in one run.

Generates N migrations (default 200: 50 each of CREATE TABLE, ADD COLUMN, CREATE INDEX and
INSERT), then prints medians over several runs of:
  - `dbtool up` from empty, beside psql applying the same files each in its own
    BEGIN/COMMIT in one session (the floor without bookkeeping);
  - a no-op `dbtool up` with everything applied, beside `psql -c 'select 1'` (process
    start plus one connection);
  - `dbtool rollback` of one migration;
  - eight `dbtool up` processes at once on an empty database (how many exit 0);
  - peak RSS of each kind of dbtool run.

Run it through bench/dbtool.sh, which builds the release binary and starts a private,
durable PostgreSQL. Needs BENCH_DATABASE_URL (superuser) and DBTOOL (the binary).
"""

import argparse
import os
import statistics
import subprocess
import tempfile
import time
import uuid


def run(cmd):
    """Runs cmd; returns (seconds, exit code)."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        print(f"  ! {' '.join(cmd[:3])}... exited {proc.returncode}: {proc.stderr.decode(errors='replace').strip()[:300]}")
    return elapsed, proc.returncode


def peak_rss_kib(cmd):
    """Peak RSS of cmd, measured by GNU time: a child forked from Python would count
    Python's own pages until it execs."""
    with tempfile.NamedTemporaryFile("r") as out:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *cmd],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        return int(out.read().strip().splitlines()[-1])


def generate(folder, n):
    quarter = max(n // 4, 1)
    files = []
    for i in range(1, quarter + 1):
        files.append((f"create_t{i}", f"CREATE TABLE t{i} (id serial PRIMARY KEY, label text NOT NULL);", f"DROP TABLE t{i};"))
    for i in range(1, quarter + 1):
        files.append((f"add_column_t{i}", f"ALTER TABLE t{i} ADD COLUMN score int NOT NULL DEFAULT 0;", f"ALTER TABLE t{i} DROP COLUMN score;"))
    for i in range(1, quarter + 1):
        files.append((f"index_t{i}", f"CREATE INDEX t{i}_score ON t{i} (score);", f"DROP INDEX t{i}_score;"))
    for i in range(1, n - 3 * quarter + 1):
        t = (i - 1) % quarter + 1
        files.append((f"insert_t{t}_{i}", f"INSERT INTO t{t} (label, score) SELECT 'row ' || g, g FROM generate_series(1, 10) g;", f"DELETE FROM t{t} WHERE label LIKE 'row %';"))
    combined = []
    for version, (name, up, down) in enumerate(files, start=1):
        with open(os.path.join(folder, f"V{version}__{name}.sql"), "w") as f:
            f.write(up + "\n")
        with open(os.path.join(folder, f"V{version}__{name}.down.sql"), "w") as f:
            f.write(down + "\n")
        combined.append(f"BEGIN;\n{up}\nCOMMIT;\n")
    path = os.path.join(folder, "..", "all-in-transactions.psql")
    with open(path, "w") as f:
        f.write("".join(combined))
    return os.path.abspath(path)


def with_database(url, name):
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")


def fresh_database(admin_url):
    name = "bench_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", "-X", "-q", admin_url, "-c", f"CREATE DATABASE {name}"], check=True)
    return with_database(admin_url, name)


def median_ms(samples):
    return statistics.median(samples) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--migrations", type=int, default=200)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--large-mb", default="1,5,10,20",
                        help="sizes of the single large migration file whose peak RSS is measured")
    args = parser.parse_args()
    admin = os.environ["BENCH_DATABASE_URL"]
    dbtool = os.environ["DBTOOL"]

    work = tempfile.mkdtemp(prefix="dbtool-bench-")
    folder = os.path.join(work, "migrations")
    os.mkdir(folder)
    combined = generate(folder, args.migrations)

    def dbtool_cmd(url, *rest):
        return [dbtool, "--database-url", url, "--migrations", folder, *rest]

    times = {k: [] for k in ("up", "floor_apply", "noop", "floor_connect", "rollback")}
    for _ in range(args.runs):
        url = fresh_database(admin)
        t, code = run(dbtool_cmd(url, "up"))
        assert code == 0
        times["up"].append(t)

        floor_url = fresh_database(admin)
        t, code = run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", combined, floor_url])
        assert code == 0
        times["floor_apply"].append(t)

        t, code = run(dbtool_cmd(url, "up"))
        assert code == 0
        times["noop"].append(t)

        t, code = run(["psql", "-X", "-q", "-c", "select 1", url])
        assert code == 0
        times["floor_connect"].append(t)

        t, code = run(dbtool_cmd(url, "rollback"))
        assert code == 0
        times["rollback"].append(t)

    url = fresh_database(admin)
    rss = {
        "up from empty": peak_rss_kib(dbtool_cmd(url, "up")),
        "no-op up": peak_rss_kib(dbtool_cmd(url, "up")),
        "rollback": peak_rss_kib(dbtool_cmd(url, "rollback")),
        "status": peak_rss_kib(dbtool_cmd(url, "status")),
    }

    # Eight runners at once on an empty database.
    url = fresh_database(admin)
    procs = [subprocess.Popen(dbtool_cmd(url, "up"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(8)]
    started = time.perf_counter()
    concurrent = []
    for p in procs:
        concurrent.append(p.wait())
    eight_wall = time.perf_counter() - started
    rows = subprocess.run(["psql", "-X", "-qtA", url, "-c", "select count(*), count(distinct version) from refinery_schema_history"],
                          check=True, capture_output=True, text=True).stdout.strip()

    # One large file (a data migration: many INSERT statements), applied to an empty database.
    large = []
    for mb in [int(x) for x in args.large_mb.split(",") if x]:
        big = os.path.join(work, f"large-{mb}")
        os.mkdir(big)
        path = os.path.join(big, "V1__large.sql")
        with open(path, "w") as f:
            f.write("CREATE TABLE big (id int PRIMARY KEY, body text);\n")
            i = 0
            while f.tell() < mb * 1024 * 1024:
                i += 1
                f.write(f"INSERT INTO big VALUES ({i}, '{'x' * 80} row {i}; with a semicolon');\n")
        size = os.path.getsize(path)
        url = fresh_database(admin)
        kib = peak_rss_kib([dbtool, "--database-url", url, "--migrations", big, "up"])
        large.append((size, kib))

    n = args.migrations
    print(f"\ndbtool benchmark: {n} migrations, median of {args.runs} runs, PostgreSQL on loopback")
    print(f"{'measure':<44}{'dbtool':>12}{'floor':>12}{'ratio':>8}")
    def line(label, ours, floor, floor_label):
        ratio = f"{ours / floor:.2f}" if floor else ""
        floor_text = f"{floor:.1f} ms" if floor else ""
        print(f"{label:<44}{ours:>9.1f} ms{floor_text:>12}{ratio:>8}   {floor_label}")
    line(f"up of {n} from empty", median_ms(times["up"]), median_ms(times["floor_apply"]),
         "floor: psql, each file in BEGIN/COMMIT, one session")
    line(f"no-op up ({n} applied)", median_ms(times["noop"]), median_ms(times["floor_connect"]),
         "floor: psql -c 'select 1'")
    line("rollback of one", median_ms(times["rollback"]), 0, "target: under 25 ms")
    print(f"{'eight runners at once':<44}{concurrent.count(0):>7} of 8 exit 0 in {eight_wall * 1000:.0f} ms; history rows, distinct versions: {rows.replace('|', ', ')}")
    for what, kib in rss.items():
        print(f"{'peak RSS, ' + what:<44}{kib / 1024:>9.1f} MB   target: under 10 MB")
    for size, kib in large:
        mb = size / 1024 / 1024
        label = f"peak RSS, up of one {mb:.0f} MB file"
        print(f"{label:<44}{kib / 1024:>9.1f} MB   target: under {2 * mb + 10:.0f} MB (2x the file + 10 MB)")


if __name__ == "__main__":
    main()
