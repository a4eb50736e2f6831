"""One set of builders for every test: unit, integration and browser (tests/e2e).

- `users`: people, and staff of each role in their ministries (`make_staff(role, *entities)`).
- `items`: entities, `make_poll`, `make_referendum`, `make_consultation`, their questions and sections, and
  the lifecycle as the clock and the worker move it (`close`, `count`).
- `audit`: the small worlds at fixed moments in Qatar time whose exports are known byte for byte.
- `actions`: the builders' only calls into participation.services (schedule, vote, comment, moderate,
  tally, publish), so that a change of the services' API is made there and nowhere else.

factory_boy factories (tests/factories.py) make single rows; builders make worlds out of them.
No other module under tests/ defines a `make_poll`, `make_referendum`, `make_consultation` or `make_staff`
(tests/test_builders.py checks).
"""
