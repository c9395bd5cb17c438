//! Discovery, numbering and grouping of a dataset, and errors naming the file.

use super::*;

#[test]
fn seed_grouping_puts_members_g_rows_apart() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hundred.parquet");
    let ids: Vec<String> = (0..100).map(|index| format!("row-{index}")).collect();
    let batch = seed_batch(
        ids.iter().map(|id| Some(id.as_str())).collect(),
        vec![Some(0.5); 100],
    );
    write_parquet(&file, &[batch], 30);
    let dataset = Dataset::open(&file).unwrap();
    let messages = messages_of(&dataset, &options(Strategy::Rayon, Grouping::Modulo));
    // N = 100, K = 10: G = 11 groups; group 3 holds rows 3, 14, ..., 91.
    assert_eq!(messages.len(), 11);
    let group_3: serde_json::Value = serde_json::from_str(&messages[3]).unwrap();
    let members: Vec<&str> = group_3
        .as_array()
        .unwrap()
        .iter()
        .map(|object| object["id_client"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        [
            "row-3", "row-14", "row-25", "row-36", "row-47", "row-58", "row-69", "row-80", "row-91"
        ]
    );
}

#[test]
fn discovery_follows_name_order_magic_bytes_and_skips_hidden_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("spark-output");
    std::fs::create_dir(&data).unwrap();
    // Extension-less names, as the seed's pandas generator writes them.
    write_parquet(
        &data.join("b1c2"),
        &[seed_batch(vec![Some("second")], vec![Some(2.0)])],
        10,
    );
    write_parquet(
        &data.join("a9f0"),
        &[seed_batch(vec![Some("first")], vec![Some(1.0)])],
        10,
    );
    std::fs::write(data.join("_SUCCESS"), "").unwrap();
    std::fs::write(data.join(".a9f0.crc"), "not parquet").unwrap();
    let dataset = Dataset::open(&data).unwrap();
    assert_eq!(dataset.rows, 2);
    let contiguous = options(Strategy::SingleThread, Grouping::Contiguous);
    assert_eq!(
        messages_of(&dataset, &contiguous),
        vec![r#"[{"id_client":"first","class_0":1.0},{"id_client":"second","class_0":2.0}]"#]
    );
}

#[test]
fn bad_datasets_get_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Dataset::open(&dir.path().join("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope") && missing.contains("does not exist"),
        "{missing}"
    );

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    std::fs::write(empty.join("_SUCCESS"), "").unwrap();
    let error = Dataset::open(&empty).unwrap_err().to_string();
    assert!(error.contains("no Parquet file"), "{error}");

    let text = dir.path().join("text");
    std::fs::create_dir(&text).unwrap();
    std::fs::write(text.join("notes.csv"), "id,class_0\nx,0.5\n").unwrap();
    let error = Dataset::open(&text).unwrap_err().to_string();
    assert!(
        error.contains("notes.csv") && error.contains("PAR1"),
        "{error}"
    );

    let truncated = dir.path().join("truncated");
    std::fs::create_dir(&truncated).unwrap();
    write_parquet(
        &truncated.join("part-0"),
        &[seed_batch(vec![Some("x")], vec![Some(0.5)])],
        10,
    );
    let bytes = std::fs::read(truncated.join("part-0")).unwrap();
    std::fs::write(truncated.join("part-0"), &bytes[..bytes.len() - 10]).unwrap();
    let error = Dataset::open(&truncated).unwrap_err().to_string();
    assert!(
        error.contains("part-0") && error.contains("truncated"),
        "{error}"
    );

    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    write_parquet(
        &mixed.join("part-0"),
        &[seed_batch(vec![Some("x")], vec![Some(0.5)])],
        10,
    );
    let other = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id_client", DataType::Utf8, true),
            Field::new("class_0", DataType::Int32, true),
        ])),
        vec![
            Arc::new(StringArray::from(vec!["y"])) as ArrayRef,
            Arc::new(Int32Array::from(vec![1])),
        ],
    )
    .unwrap();
    write_parquet(&mixed.join("part-1"), &[other], 10);
    let error = Dataset::open(&mixed).unwrap_err().to_string();
    assert!(
        error.contains("part-1") && error.contains("class_0"),
        "{error}"
    );
}
