"""Forged copies of a referendum's ballots export (a header and rows of text), for the verifiers to catch."""

SWAP = {"نعم": "لا", "لا": "نعم", "Yes": "No", "No": "Yes"}


def swap_labels(header, rows):
    """Every Yes written as No and every No as Yes, in both languages."""
    return header, [[*row[:5], SWAP.get(row[5], row[5]), SWAP.get(row[6], row[6]), row[7]] for row in rows]


def extra_column(header, rows):
    return [*header, "voter"], [[*row, "amal@example.qa"] for row in rows]


def remove_row(header, rows):
    return header, rows[1:]


def add_row(header, rows):
    return header, [*rows, [*rows[0][:2], "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", *rows[0][3:]]]
