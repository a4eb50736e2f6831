"""The insider of issue 9, as code: what a person with full SQL access (and the Redis broker) can link.

The attacker reads the database through a fresh connection of its own, with raw SQL, and
introspects it: every table of the public schema, every row with its system columns (ctid, xmin,
xmax) and its values as JSON, every column's type, every foreign key. It also reads whatever Redis
holds and every broker message that passed through it, and the e-mails the portal sent.

What the attacker is told (as an insider would know the schema): which tables hold the users, the
items, the options, the sessions, the audit trail, and who took part in a referendum. Everything
else is found generically:

- a *voter row* is a user row, a row with a foreign key to a user, or a session whose decoded data
  names a user (rows of another item are left out when the table has an item key);
- a *choice row* is a row with a foreign key to an option and one to the referendum's item: it
  reveals an option, or a blank vote when the option is NULL;
- the *receipt book* maps every receipt printed in a choice row to its option: after the results
  are published it is public (the CSV and the digest list receipt and option), so an attacker who
  holds (person, receipt) from before the close learns the choice after it.

Each attack returns candidates, (label, {voter id: predicted choice}); the score of an attack is
that of its best candidate (`score`). A choice is an option id as text, or BLANK.
"""

import base64
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

BLANK = "blank"
TIME_TYPES = {"timestamp with time zone", "timestamp without time zone", "date"}
ID_TYPES = {"integer", "bigint", "smallint", "uuid"}
LOW_CARDINALITY = 8
OPTION_KEY = re.compile(r'"(?:option|option_id|choice|chosen)"\s*:\s*"?(\d+|abstain|null)"?')
AUTH_USER = re.compile(r'"_auth_user_id"\s*:\s*"?(\d+)')


# ---------------------------------------------------------------------------
# What the attacker reads
# ---------------------------------------------------------------------------


@dataclass
class Row:
    table: str
    ctid: tuple
    xmin: int
    xmax: int
    values: dict
    text: str


@dataclass
class Snapshot:
    """Every row of every table, with its system columns; Redis; the e-mails sent."""

    rows: dict = field(default_factory=dict)  # table -> [Row]
    types: dict = field(default_factory=dict)  # table -> {column: data type}
    fks: dict = field(default_factory=dict)  # table -> {column: referenced table}
    pks: dict = field(default_factory=dict)  # table -> primary key column
    redis: list = field(default_factory=list)  # texts: key and value, or a broker message
    mails: list = field(default_factory=list)  # (recipients, text)


def _xid(text):
    return int(text) if text else 0


def _ctid(text):
    block, offset = text.strip("()").split(",")
    return int(block), int(offset)


def take_snapshot(conn, redis_texts=(), mails=()):
    """Read everything through `conn`, a psycopg connection of the attacker's own."""
    snap = Snapshot(redis=list(redis_texts), mails=list(mails))
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        )
    ]
    for table, column, data_type in conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'public'"
    ):
        snap.types.setdefault(table, {})[column] = data_type
    for table, column, referenced in conn.execute(
        "SELECT cl.relname, att.attname, ref.relname FROM pg_constraint con "
        "JOIN pg_class cl ON cl.oid = con.conrelid JOIN pg_class ref ON ref.oid = con.confrelid "
        "JOIN pg_namespace n ON n.oid = cl.relnamespace "
        "JOIN pg_attribute att ON att.attrelid = con.conrelid AND att.attnum = con.conkey[1] "
        "WHERE con.contype = 'f' AND cardinality(con.conkey) = 1 AND n.nspname = 'public'"
    ):
        snap.fks.setdefault(table, {})[column] = referenced
    for table, column in conn.execute(
        "SELECT cl.relname, att.attname FROM pg_index i JOIN pg_class cl ON cl.oid = i.indrelid "
        "JOIN pg_namespace n ON n.oid = cl.relnamespace "
        "JOIN pg_attribute att ON att.attrelid = i.indrelid AND att.attnum = i.indkey[0] "
        "WHERE i.indisprimary AND n.nspname = 'public'"
    ):
        snap.pks[table] = column
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        query = f"SELECT ctid::text, xmin::text, xmax::text, to_jsonb(t)::text FROM {quoted} AS t"  # noqa: S608  (names from pg_class)
        snap.rows[table] = [
            Row(table, _ctid(ctid), _xid(xmin), _xid(xmax), json.loads(text), text)
            for ctid, xmin, xmax, text in conn.execute(query)
        ]
    return snap


@dataclass
class Target:
    """One referendum, and the tables an insider knows by name."""

    item_id: int
    option_ids: set
    participation_table: str
    user_table: str
    item_table: str
    option_table: str
    session_table: str
    audit_table: str
    notification_table: str


# ---------------------------------------------------------------------------
# Voter rows, choice rows, receipts
# ---------------------------------------------------------------------------


def decode_session(session_data):
    from django.contrib.sessions.backends.db import SessionStore

    return SessionStore().decode(session_data)


class View:
    """What one snapshot tells about one referendum."""

    def __init__(self, snap, target, book=None):
        self.snap, self.target = snap, target
        self.voters = {
            int(row.values["voter_id"])
            for row in snap.rows.get(target.participation_table, [])
            if row.values.get("item_id") == target.item_id
        }
        self.emails = {}
        for row in snap.rows.get(target.user_table, []):
            if row.values.get("id") in self.voters:
                for column in ("email", "identity_number"):
                    if row.values.get(column):
                        self.emails[str(row.values[column]).lower()] = row.values["id"]
        self.voter_rows = self._voter_rows()
        self.choice_rows = self._choice_rows()
        self.book = dict(book or {})
        for row, choice in self.choice_rows:
            for token in receipt_tokens(row.text):
                self.book[token] = choice
        self._receipt_re = (
            re.compile("|".join(sorted(self.book, key=len, reverse=True))) if self.book else None
        )

    def _item_column(self, table):
        for column, referenced in self.snap.fks.get(table, {}).items():
            if referenced == self.target.item_table:
                return column
        return None

    def _voter_rows(self):
        """table -> {voter: [rows]}; sessions appear as rows whose text includes their decoded data."""
        found = defaultdict(lambda: defaultdict(list))
        user_table = self.target.user_table
        for row in self.snap.rows.get(user_table, []):
            if row.values.get("id") in self.voters:
                found[user_table][row.values["id"]].append(row)
        for table, fks in self.snap.fks.items():
            item_column = self._item_column(table)
            for column, referenced in fks.items():
                if referenced != user_table:
                    continue
                for row in self.snap.rows.get(table, []):
                    voter = row.values.get(column)
                    if voter not in self.voters:
                        continue
                    if item_column and row.values.get(item_column) not in (None, self.target.item_id):
                        continue
                    found[table][voter].append(row)
        for row in self.snap.rows.get(self.target.session_table, []):
            decoded = decode_session(row.values.get("session_data", ""))  # {} when unreadable
            voter = decoded.get("_auth_user_id")
            if voter is not None and int(voter) in self.voters:
                text = row.text + "\n" + json.dumps(decoded, default=str)
                found[self.target.session_table][int(voter)].append(
                    Row(row.table, row.ctid, row.xmin, row.xmax, row.values, text)
                )
        return found

    def _choice_rows(self):
        rows = []
        for table, fks in self.snap.fks.items():
            item_column = self._item_column(table)
            option_columns = [c for c, referenced in fks.items() if referenced == self.target.option_table]
            if not item_column or not option_columns:
                continue
            for row in self.snap.rows.get(table, []):
                if row.values.get(item_column) != self.target.item_id:
                    continue
                option = row.values.get(option_columns[0])
                rows.append((row, BLANK if option is None else str(option)))
        return rows

    def choices_in(self, text):
        """Choices revealed by a text: receipts from the book, and option-like keys of the referendum."""
        found = []
        if self._receipt_re:
            found += [self.book[m.group(0)] for m in self._receipt_re.finditer(text.replace("-", ""))]
        for value in OPTION_KEY.findall(text):
            if value in ("abstain", "null"):
                found.append(BLANK)
            elif int(value) in self.target.option_ids:
                found.append(value)
        return found

    def voters_in(self, text):
        lowered = text.lower()
        named = {voter for key, voter in self.emails.items() if key in lowered}
        named |= {int(v) for v in AUTH_USER.findall(text) if int(v) in self.voters}
        return named


RECEIPT_LIKE = re.compile(r"(?<![A-Z2-7-])(?:[A-Z2-7]{4}(?:-[A-Z2-7]{1,4}){3,}|[A-Z2-7]{20,})(?![A-Z2-7-])")


def receipt_tokens(text):
    """Receipt-looking tokens (base32, in groups of four or not), without their dashes."""
    return {token.replace("-", "") for token in RECEIPT_LIKE.findall(text)}


def majority(values):
    return Counter(values).most_common(1)[0][0] if values else None


def by_majority(evidence):
    """{voter: [choices]} -> {voter: most frequent choice}."""
    return {voter: majority(choices) for voter, choices in evidence.items() if choices}


# ---------------------------------------------------------------------------
# The attacks: each returns [(label, {voter: choice})]
# ---------------------------------------------------------------------------


def xid_attack(view, pairs):
    """Transaction ids: a voter row and a choice row with the same xid were written (or locked) together."""
    candidates = []
    for voter_side, choice_side in pairs:
        index = defaultdict(list)
        for row, choice in view.choice_rows:
            if getattr(row, choice_side):
                index[getattr(row, choice_side)].append(choice)
        evidence = defaultdict(list)
        for rows_by_voter in view.voter_rows.values():
            for voter, rows in rows_by_voter.items():
                for row in rows:
                    evidence[voter] += index.get(getattr(row, voter_side), []) if getattr(row, voter_side) else []
        candidates.append((f"voter {voter_side} = choice {choice_side}", by_majority(evidence)))
    return candidates


def xmin_attack(view):
    return xid_attack(view, [("xmin", "xmin")])


def xmax_attack(view):
    return xid_attack(view, [("xmax", "xmin"), ("xmin", "xmax"), ("xmax", "xmax")])


def cowritten_attack(view, labels):
    """Rows written in the voter's own transaction, whatever they are (sealed, encrypted, ...).

    Each such row gives features: the value of every low-cardinality column, else the length of
    its text (a ciphertext's length can betray what it hides). The attacker knows the choices of
    half the voters (colluders) and learns which features go with which choice; two-fold
    cross-validation, so no voter is predicted from their own choice.
    """
    participation = view.target.participation_table
    by_xid = defaultdict(list)
    for rows in view.snap.rows.values():
        for row in rows:
            by_xid[row.xmin].append(row)
    cowritten = {}
    for voter, rows in view.voter_rows.get(participation, {}).items():
        xids = {row.xmin for row in rows}
        cowritten[voter] = [r for x in xids for r in by_xid[x] if r.table != participation]
    values = defaultdict(set)
    lengths = defaultdict(set)
    for rows in cowritten.values():
        for row in rows:
            for column, value in row.values.items():
                values[(row.table, column)].add(json.dumps(value))
                lengths[(row.table, column)].add(len(json.dumps(value)))
    features = {}
    for voter, rows in cowritten.items():
        feature = []
        for row in rows:
            for column, value in row.values.items():
                key = (row.table, column)
                if len(values[key]) <= LOW_CARDINALITY:
                    feature.append((row.table, column, "value", json.dumps(value)))
                elif len(lengths[key]) <= LOW_CARDINALITY:
                    feature.append((row.table, column, "length", len(json.dumps(value))))
        features[voter] = tuple(sorted(feature))
    return [("rows sharing the vote's xmin, learnt from colluders", cross_validated(features, labels))]


def cross_validated(features, labels):
    """Two folds by voter id: learn feature -> majority choice on one half, predict the other."""
    voters = sorted(features)
    folds = (voters[0::2], voters[1::2])
    predictions = {}
    for train, test in ((folds[0], folds[1]), (folds[1], folds[0])):
        learnt = defaultdict(list)
        for voter in train:
            learnt[features[voter]].append(labels[voter])
        for voter in test:
            if features[voter] in learnt:
                predictions[voter] = majority(learnt[features[voter]])
    return predictions


def _sort_key(value, data_type):
    if value is None:
        return None
    if data_type in TIME_TYPES:
        return date.fromisoformat(value) if data_type == "date" else datetime.fromisoformat(value)
    return value


def _orders(snap, rows_by_key, skip_columns):
    """Orders of rows: physical (ctid) and by every id-like or time column that is not a foreign key."""
    orders = []
    tables = {row.table for rows in rows_by_key.values() for row in rows}
    for table in tables:
        types = snap.types.get(table, {})
        orders.append((table, "ctid", "physical", lambda row: row.ctid))
        for column, data_type in types.items():
            if column in snap.fks.get(table, {}) or column in skip_columns:
                continue
            if data_type in TIME_TYPES or data_type in ID_TYPES:
                kind = "time" if data_type in TIME_TYPES else "id"
                orders.append(
                    (table, column, kind, lambda row, c=column, t=data_type: _sort_key(row.values.get(c), t))
                )
    return orders


def order_attacks(view):
    """Rank the voters by an order of their rows, rank the ballots by an order of theirs, match by rank.

    Voters present in only part of a table (a subset who used the web) are matched by quantile.
    Returns {group: [(label, predictions)]}, group = physical (ctid with ctid), ids (an id or
    sequence on either side), time (a time column on either side).
    """
    groups = defaultdict(list)
    if not view.choice_rows:
        return groups
    choice_tables = defaultdict(list)
    for row, choice in view.choice_rows:
        choice_tables[row.table].append((row, choice))
    voter_orders = []
    for table, rows_by_voter in view.voter_rows.items():
        for _table, column, kind, key in _orders(view.snap, rows_by_voter, ()):
            keyed = {}
            for voter, rows in rows_by_voter.items():
                keys = [key(row) for row in rows if row.table == table]
                keys = [k for k in keys if k is not None]
                if keys:
                    keyed[voter] = max(keys)
            if keyed:
                voter_orders.append((f"{table}.{column}", kind, keyed))
    for table, pairs in choice_tables.items():
        for _table, column, choice_kind, key in _orders(view.snap, {0: [r for r, _c in pairs]}, ()):
            ranked = [c for k, c in sorted(((key(r), c) for r, c in pairs), key=lambda kc: (kc[0] is None, kc[0]))]
            for voter_label, voter_kind, keyed in voter_orders:
                ordered = sorted(keyed, key=lambda v, keyed=keyed: (keyed[v], v))
                m, n = len(ordered), len(ranked)
                predictions = {voter: ranked[min(n - 1, rank * n // m)] for rank, voter in enumerate(ordered)}
                kinds = {voter_kind, choice_kind}
                group = "time" if "time" in kinds else "ids" if "id" in kinds else "physical"
                groups[group].append((f"{voter_label} ~ {table}.{column}", predictions))
    return groups


def receipts_beside_people(view, texts_with_voters):
    """A text that names exactly one voter and holds a receipt (or an option key) links them."""
    evidence = defaultdict(list)
    for voters, text in texts_with_voters:
        if len(voters) == 1:
            evidence[next(iter(voters))] += view.choices_in(text)
    return by_majority(evidence)


def session_attack(view):
    rows = view.voter_rows.get(view.target.session_table, {})
    texts = [({voter}, row.text) for voter, voter_rows in rows.items() for row in voter_rows]
    return [("decoded django_session", receipts_beside_people(view, texts))]


def audit_attack(view):
    texts = []
    for row in view.snap.rows.get(view.target.audit_table, []):
        voters = view.voters_in(row.text)
        for column, referenced in view.snap.fks.get(view.target.audit_table, {}).items():
            if referenced == view.target.user_table and row.values.get(column) in view.voters:
                voters.add(row.values[column])
        texts.append((voters, row.text))
    return [("audit trail", receipts_beside_people(view, texts))]


def notification_attack(view):
    rows = view.voter_rows.get(view.target.notification_table, {})
    texts = [({voter}, row.text) for voter, voter_rows in rows.items() for row in voter_rows]
    mails = [(view.voters_in(" ".join(recipients)), text) for recipients, text in view.snap.mails]
    return [
        ("notification rows", receipts_beside_people(view, texts)),
        ("e-mails sent", receipts_beside_people(view, mails)),
    ]


def redis_attack(view):
    texts = [(view.voters_in(text), text) for text in view.snap.redis]
    return [("Redis keys, values and broker messages", receipts_beside_people(view, texts))]


def voter_rows_attack(view):
    """Any row of any table that belongs to a voter and holds a receipt or an option key."""
    texts = [
        ({voter}, row.text)
        for table, rows_by_voter in view.voter_rows.items()
        if table != view.target.session_table
        for voter, rows in rows_by_voter.items()
        for row in rows
    ]
    return [("every row that belongs to a voter", receipts_beside_people(view, texts))]


# ---------------------------------------------------------------------------
# Redis and the broker
# ---------------------------------------------------------------------------


def redis_texts(client):
    """Every key of the Redis database with its value(s), as text."""
    texts = []
    for key in client.scan_iter(count=500):
        kind = client.type(key).decode()
        if kind == "string":
            values = [client.get(key)]
        elif kind == "list":
            values = client.lrange(key, 0, -1)
        elif kind == "hash":
            values = [k + b"=" + v for k, v in client.hgetall(key).items()]
        elif kind == "set":
            values = list(client.smembers(key))
        elif kind == "zset":
            values = client.zrange(key, 0, -1)
        else:
            values = []
        for value in values or [b""]:
            texts.append(key.decode(errors="replace") + " " + (value or b"").decode(errors="replace"))
    return texts


def broker_message(raw):
    """(task name, args, kwargs, readable text) of a kombu Redis envelope (Celery protocol 2)."""
    envelope = json.loads(raw)
    body = envelope["body"]
    if envelope.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body).decode()
    args, kwargs, _embed = json.loads(body)
    return envelope["headers"]["task"], args, kwargs, raw.decode(errors="replace") + "\n" + body


# ---------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------


@dataclass
class Score:
    share: float  # voters whose choice the best candidate names correctly
    baseline: float  # share of the most common answer
    threshold: float
    linked: int  # voters the best candidate made a prediction for
    population: int
    label: str

    @property
    def links(self):
        return self.share > self.threshold

    def __str__(self):
        return (
            f"{self.share:.3f} correct (baseline {self.baseline:.3f}, threshold {self.threshold:.3f}, "
            f"{self.linked}/{self.population} predicted, best: {self.label})"
        )


def score(candidates, truth, population, margin):
    """The best candidate's share of voters named correctly; the others are given the most common answer.

    A candidate that predicts nothing scores the baseline exactly, and is reported as "no prediction".
    """
    population = sorted(population)
    guess, top = Counter(truth[v] for v in population).most_common(1)[0]
    baseline = top / len(population)
    best = None
    for label, predictions in candidates:
        linked = sum(v in predictions for v in population)
        if not linked:
            continue
        share = sum(predictions.get(v, guess) == truth[v] for v in population) / len(population)
        if best is None or share > best.share:
            best = Score(share, baseline, baseline + margin, linked, len(population), label)
    return best or Score(baseline, baseline, baseline + margin, 0, len(population), "no prediction")
