"""Where a page's time goes: pyinstrument profiles of the pages and the vote, in process, on the bench's data.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379/1 \\
        python bench/profile_pages.py [--requests 200] [--page "poll page, anonymous"]

Seeds the same data as bench/web_bench.py (quick size) in the bench's database, then sends each request through
Django's WSGI handler, as gunicorn does (every middleware, the production settings, the Redis cache) under pyinstrument, and prints
one text profile per page, together with the SQL queries of one request. The numbers are those of one process
without network; the bench's table gives the figures under load.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import ensure_database, reset_schemas  # noqa: E402
from bench.web_bench import LANGUAGE, POLL_SLUG, Settings, bench_environment, with_database  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--all", action="store_true", help="show library frames too")
    parser.add_argument("--page", action="append", help="profile only these pages (names as printed)")
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1")
    bench_name = "bench_" + database_url.rsplit("/", 1)[1]
    ensure_database(database_url, bench_name)
    workdir = Path(tempfile.mkdtemp(prefix="hukoomi-profile-"))
    os.environ.update(bench_environment(with_database(database_url, bench_name), redis_url, workdir / "static"))

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.db import connection
    from django.test import RequestFactory
    from pyinstrument import Profiler

    from bench.web_bench import seed_portal, vote_body

    call_command("collectstatic", interactive=False, verbosity=0)
    reset_schemas(connection, "public")
    call_command("migrate", verbosity=0)
    cache.clear()
    settings = Settings(quick=True)
    settings.voters = max(settings.voters, args.requests + 10)
    cookies_file = workdir / "voters.txt"
    poll = seed_portal(settings, cookies_file)
    body = vote_body(poll)
    voters = iter(line.split() for line in cookies_file.read_text().splitlines())
    reader = next(voters)
    pages = {
        "poll page": f"/{LANGUAGE}/polls/{POLL_SLUG}/",
        "/participate/ list": f"/{LANGUAGE}/participate/",
        "home": f"/{LANGUAGE}/",
    }
    # The WSGI handler gunicorn calls, not the test client (which copies every template context it renders).
    handler, factory = WSGIHandler(), RequestFactory()

    def serve(environ):
        statuses = []
        response = handler(environ, lambda status, headers, exc_info=None: statuses.append(status))
        b"".join(response)
        response.close()
        return int(statuses[0].split()[0])

    def cookie(voter):
        return f"sessionid={voter[0]}; csrftoken={voter[1]}"

    def get(path, signed_in):
        extra = {"HTTP_COOKIE": cookie(reader)} if signed_in else {}
        environ = factory.get(path, **extra).environ
        return lambda: serve(dict(environ))

    def vote():
        voter = next(voters)
        environ = factory.post(
            pages["poll page"], body.replace("TOKEN", voter[1]), content_type="application/x-www-form-urlencoded",
            HTTP_COOKIE=cookie(voter),
        ).environ
        return lambda: serve(environ)

    cases = {}
    for name, path in pages.items():
        cases[f"{name}, anonymous"] = lambda path=path: get(path, False)
        cases[f"{name}, signed in"] = lambda path=path: get(path, True)
    cases["vote POST"] = vote
    try:
        for name, make in cases.items():
            if args.page and name not in args.page:
                continue
            make()()  # once outside the profile: templates compiled, caches filled
            queries = []

            def record(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            request = make()
            with connection.execute_wrapper(record):  # the test client's request_started resets connection.queries
                status = request()
            profiler = Profiler(interval=0.0005)
            elapsed = cpu = 0.0
            for _ in range(args.requests):
                request = make()
                started, started_cpu = time.perf_counter(), time.process_time()
                profiler.start()
                request()
                profiler.stop()
                elapsed += time.perf_counter() - started
                cpu += time.process_time() - started_cpu
            print(f"\n## {name}: {elapsed / args.requests * 1000:.2f} ms a request ({cpu / args.requests * 1000:.2f} ms "
                  f"of CPU, with the profiler's own cost), {len(queries)} SQL queries, status {status}\n")
            for sql in queries:
                print(f"    SQL {sql[:150]}")
            print(profiler.output_text(unicode=True, color=False, show_all=args.all))
    finally:
        reset_schemas(connection, "public")


if __name__ == "__main__":
    main()
