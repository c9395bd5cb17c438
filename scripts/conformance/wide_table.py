"""A wide prediction table for the JSON conformance test: every column type a
Parquet prediction table can hold (an id as pandas 3 writes it, float32 and
float64 scores, integers, booleans, decimals, dates, timestamps with and
without a zone, strings, binary, lists, structs, maps, a dictionary-encoded
column), with nulls, NaN, infinities and extremes (subnormals, -0.0, 1e300,
decimal(38,18), dates before 1970, timestamps with microseconds, instants on
daylight-saving changes). Written by pyarrow, one file, one row group.

    wide_table.py --output FILE [--rows N] [--fast-path-only]

With --fast-path-only, only the columns predbench's fast path writes (text,
floats, integers, booleans, dates, timestamps).
"""

import argparse
import datetime
import decimal
import math
import random

import pyarrow as pa
import pyarrow.parquet as pq


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--fast-path-only", action="store_true")
    arguments = parser.parse_args()
    rng = random.Random(7)
    rows = arguments.rows

    def pick(special, draw, null_every=11):
        """Special values first, then draws, a null every `null_every` rows."""
        values = []
        for row in range(rows):
            if row < len(special):
                values.append(special[row])
            elif row % null_every == 3:
                values.append(None)
            else:
                values.append(draw())
        return values

    float_special = [0.0, -0.0, math.nan, math.inf, -math.inf, 1e-45, 1.1754942e-38, 3.4028235e38,
                     0.1, 1e-5, 1e7, 123456.79, 0.8220099]
    double_special = [0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, 2.2250738585072014e-308,
                      1e300, 1.7976931348623157e308, 0.1, 1e-5, 1e16, 1.0, 123456789.0]
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    instant_special = [
        epoch, epoch - datetime.timedelta(microseconds=1),
        datetime.datetime(1960, 1, 1, 0, 0, 0, 999999, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=datetime.timezone.utc),  # Paris' change
        datetime.datetime(2026, 3, 29, 1, 0, 0, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 10, 25, 0, 30, tzinfo=datetime.timezone.utc),
        datetime.datetime(1900, 6, 1, 12, 0, tzinfo=datetime.timezone.utc),
        datetime.datetime(2026, 11, 24, 11, 2, 3, 123456, tzinfo=datetime.timezone.utc),
    ]
    texts = ["", "plain", "quote \" backslash \\ slash /", "control \x01\x08\x0c\n\r\t\x1f",
             "unicode é ü 中文 😀 \u2028"]

    def instant():
        return epoch + datetime.timedelta(microseconds=rng.randrange(-3_000_000_000_000_000,
                                                                     3_000_000_000_000_000))

    columns = {
        "id_client": pa.array([f"{row:08x}-{rng.getrandbits(64):016x}" for row in range(rows)],
                              pa.large_string()),
        "class_f32": pa.array(pick(float_special, lambda: rng.random() * 10 ** rng.randint(-8, 8)),
                              pa.float32()),
        "class_f64": pa.array(pick(double_special, lambda: rng.random() * 10 ** rng.randint(-30, 30)),
                              pa.float64()),
        "i8": pa.array(pick([-128, 127, 0], lambda: rng.randint(-128, 127)), pa.int8()),
        "i16": pa.array(pick([-32768, 32767], lambda: rng.randint(-32768, 32767)), pa.int16()),
        "i32": pa.array(pick([-2**31, 2**31 - 1], lambda: rng.randint(-2**31, 2**31 - 1)), pa.int32()),
        "i64": pa.array(pick([-2**63, 2**63 - 1], lambda: rng.randint(-2**63, 2**63 - 1)), pa.int64()),
        "u8": pa.array(pick([0, 255], lambda: rng.randint(0, 255)), pa.uint8()),
        "u16": pa.array(pick([0, 65535], lambda: rng.randint(0, 65535)), pa.uint16()),
        "u32": pa.array(pick([0, 2**32 - 1], lambda: rng.randint(0, 2**32 - 1)), pa.uint32()),
        "flag": pa.array(pick([True, False], lambda: rng.random() < 0.5), pa.bool_()),
        "amount": pa.array(pick([decimal.Decimal("0.0000"), decimal.Decimal("-0.0001"),
                                 decimal.Decimal("999999.9999")],
                                lambda: decimal.Decimal(rng.randint(-10**10 + 1, 10**10 - 1)).scaleb(-4)),
                           pa.decimal128(10, 4)),
        "precise": pa.array(pick([decimal.Decimal(0).scaleb(-18), decimal.Decimal("0.000000123456789012"),
                                  decimal.Decimal("99999999999999999999.999999999999999999"),
                                  decimal.Decimal("-0.000001")],
                                 lambda: decimal.Decimal(rng.randint(-10**38 + 1, 10**38 - 1)).scaleb(-18)),
                            pa.decimal128(38, 18)),
        "scored_on": pa.array(pick([datetime.date(1969, 7, 20), datetime.date(1, 1, 1),
                                    datetime.date(9999, 12, 31), datetime.date(999, 12, 24)],
                                   lambda: datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(-40000, 40000))),
                              pa.date32()),
        "scored_at": pa.array(pick(instant_special, instant), pa.timestamp("us", tz="UTC")),
        "scored_at_ms": pa.array(pick(instant_special, instant), pa.timestamp("ms", tz="Europe/Paris")),
        "local_time": pa.array(pick([instant.replace(tzinfo=None) for instant in instant_special],
                                    lambda: instant().replace(tzinfo=None)), pa.timestamp("us")),
        "note": pa.array(pick(texts, lambda: rng.choice(texts) + str(rng.random())), pa.string()),
        "segment": pa.array(pick(["a", "b"], lambda: rng.choice(["gold", "silver", "bronze"]))).dictionary_encode(),
        "payload": pa.array(pick([b"", b"\x00\x01\xff", b"hello"], lambda: rng.randbytes(rng.randint(0, 9))),
                            pa.binary()),
        "top_scores": pa.array(pick([[], [1.5, None, math.nan]],
                                    lambda: [rng.random() for _ in range(rng.randint(0, 3))]),
                               pa.list_(pa.float64())),
        "tags": pa.array(pick([[None], ["x"]], lambda: [rng.choice(texts) for _ in range(rng.randint(0, 2))]),
                         pa.list_(pa.string())),
        "model": pa.array(pick([{"name": None, "version": 1, "weight": -0.0}, {"name": "m", "version": None,
                                                                               "weight": math.inf}],
                               lambda: {"name": rng.choice(texts), "version": rng.randint(0, 9),
                                        "weight": rng.random()}),
                          pa.struct([("name", pa.string()), ("version", pa.int32()), ("weight", pa.float64())])),
        "features": pa.array(pick([[("k", 1)], []], lambda: [(f"f{k}", rng.randint(0, 99)) for k in range(rng.randint(0, 3))]),
                             pa.map_(pa.string(), pa.int64())),
        "history": pa.array(pick([[{"at": datetime.date(1969, 1, 1), "score": 0.5}]],
                                 lambda: [{"at": datetime.date(2026, 1, rng.randint(1, 28)), "score": rng.random()}]),
                            pa.list_(pa.struct([("at", pa.date32()), ("score", pa.float32())]))),
    }
    if arguments.fast_path_only:
        fast = {"id_client", "class_f32", "class_f64", "i8", "i16", "i32", "i64", "u8", "u16", "u32",
                "flag", "scored_on", "scored_at", "scored_at_ms", "local_time", "note", "segment"}
        columns = {name: column for name, column in columns.items() if name in fast}
    table = pa.table(columns)
    pq.write_table(table, arguments.output, row_group_size=rows)


if __name__ == "__main__":
    main()
