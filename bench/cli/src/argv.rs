//! Command lines for child processes, built from the same structures clap
//! parses: the harness fills an [`ExportArgs`] (or [`GenerateArgs`], ...) and
//! asks it for its flags, so a child's command line cannot name a flag that
//! does not exist or spell a value clap would not read back. Every struct is
//! destructured whole, so a new flag that is not handled here does not compile;
//! the tests parse each command line back into the struct it came from.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use clap::Parser;
use predbench_common::Choice;

use crate::args::{
    Cli, Command, DrainArgs, ExportArgs, GenerateArgs, Output, PublishArgs, VerifyArgs,
};

/// A command's words after the program (`export --input ...`): what the
/// harness runs, and what `run` reads back.
pub trait ToArgv {
    /// The command and its flags, defaults left out.
    fn to_argv(&self) -> Vec<String>;
}

/// Flags being written: each one only where it differs from clap's default.
struct Flags(Vec<String>);

impl Flags {
    fn value(&mut self, flag: &str, value: impl Display) {
        self.0.push(format!("--{flag}"));
        self.0.push(value.to_string());
    }

    fn changed<T: PartialEq + Display>(&mut self, flag: &str, value: &T, default: &T) {
        if value != default {
            self.value(flag, value);
        }
    }

    fn choice<T: Choice>(&mut self, flag: &str, value: T, default: T) {
        if value != default {
            self.value(flag, value.name());
        }
    }

    fn optional<T: Display>(&mut self, flag: &str, value: &Option<T>) {
        if let Some(value) = value {
            self.value(flag, value);
        }
    }

    fn path(&mut self, flag: &str, path: &Path) {
        self.value(flag, path.display());
    }

    fn optional_path(&mut self, flag: &str, path: &Option<PathBuf>) {
        if let Some(path) = path {
            self.path(flag, path);
        }
    }

    fn switch(&mut self, flag: &str, on: bool) {
        if on {
            self.0.push(format!("--{flag}"));
        }
    }

    fn output(&mut self, output: &Output) {
        let Output {
            summary_json,
            quiet,
        } = output;
        self.optional_path("summary-json", summary_json);
        self.switch("quiet", *quiet);
    }
}

impl ToArgv for Command {
    fn to_argv(&self) -> Vec<String> {
        match self {
            Command::Generate(args) => args.to_argv(),
            Command::Export(args) => args.to_argv(),
            Command::Verify(args) => args.to_argv(),
            Command::Publish(args) => args.to_argv(),
            Command::Drain(args) => args.to_argv(),
        }
    }
}

/// Parses `predbench <words>` (for clap's defaults and the round-trip tests).
pub fn parse(words: &[&str]) -> Result<Command, clap::Error> {
    let mut argv = vec!["predbench"];
    argv.extend_from_slice(words);
    Cli::try_parse_from(argv).map(|cli| cli.command)
}

impl ExportArgs {
    /// `predbench export --input INPUT` with every other flag at its default.
    pub fn with_input(input: &Path) -> ExportArgs {
        let input = input.display().to_string();
        match parse(&["export", "--input", &input]) {
            Ok(Command::Export(args)) => args,
            other => unreachable!("export's defaults parse: {other:?}"),
        }
    }
}

impl ToArgv for ExportArgs {
    fn to_argv(&self) -> Vec<String> {
        let default = ExportArgs::with_input(&self.input);
        let ExportArgs {
            input,
            strategy,
            grouping,
            group_size,
            sink,
            confirm_window,
            max_message_bytes,
            checkpoint,
            resume,
            retry_seconds,
            compression,
            nulls,
            non_finite,
            time_zone,
            number_format,
            encoder,
            threads,
            chunk_rows,
            memory_budget,
            spill_dir,
            decode_ahead,
            decode_only,
            shard,
            force,
            output,
        } = self;
        let mut flags = Flags(vec!["export".to_string()]);
        flags.path("input", input);
        flags.choice("strategy", *strategy, default.strategy);
        flags.choice("grouping", *grouping, default.grouping);
        flags.changed("group-size", group_size, &default.group_size);
        flags.changed("sink", sink, &default.sink);
        flags.changed("confirm-window", confirm_window, &default.confirm_window);
        flags.optional("max-message-bytes", max_message_bytes);
        flags.optional_path("checkpoint", checkpoint);
        flags.switch("resume", *resume);
        flags.changed("retry-seconds", retry_seconds, &default.retry_seconds);
        flags.choice("compression", *compression, default.compression);
        flags.choice("nulls", *nulls, default.nulls);
        flags.choice("non-finite", *non_finite, default.non_finite);
        flags.changed("time-zone", time_zone, &default.time_zone);
        flags.choice("number-format", *number_format, default.number_format);
        flags.choice("encoder", *encoder, default.encoder);
        flags.optional("threads", threads);
        flags.changed("chunk-rows", chunk_rows, &default.chunk_rows);
        flags.changed("memory-budget", memory_budget, &default.memory_budget);
        flags.optional_path("spill-dir", spill_dir);
        flags.choice("decode-ahead", *decode_ahead, default.decode_ahead);
        flags.switch("decode-only", *decode_only);
        flags.optional("shard", shard);
        flags.switch("force", *force);
        flags.output(output);
        flags.0
    }
}

impl GenerateArgs {
    /// `predbench generate --out OUT` with every other flag at its default.
    pub fn with_out(out: &Path) -> GenerateArgs {
        let out = out.display().to_string();
        match parse(&["generate", "--out", &out]) {
            Ok(Command::Generate(args)) => args,
            other => unreachable!("generate's defaults parse: {other:?}"),
        }
    }
}

impl ToArgv for GenerateArgs {
    fn to_argv(&self) -> Vec<String> {
        let default = GenerateArgs::with_out(Path::new("out"));
        let GenerateArgs {
            out,
            shard,
            merge_manifests,
            rows,
            classes,
            seed,
            distribution,
            alpha,
            null_rate,
            nan_rate,
            threads,
            batch_rows,
            row_group_rows,
            file_rows,
            memory_budget,
            compression,
            float_encoding,
            class_type,
            force,
            output,
        } = self;
        let mut flags = Flags(vec!["generate".to_string()]);
        flags.optional_path("out", out);
        flags.optional("shard", shard);
        flags.optional_path("merge-manifests", merge_manifests);
        flags.changed("rows", rows, &default.rows);
        flags.changed("classes", classes, &default.classes);
        flags.changed("seed", seed, &default.seed);
        flags.choice("distribution", *distribution, default.distribution);
        flags.changed("alpha", alpha, &default.alpha);
        flags.changed("null-rate", null_rate, &default.null_rate);
        flags.changed("nan-rate", nan_rate, &default.nan_rate);
        flags.optional("threads", threads);
        flags.optional("batch-rows", batch_rows);
        flags.optional("row-group-rows", row_group_rows);
        flags.changed("file-rows", file_rows, &default.file_rows);
        flags.optional("memory-budget", memory_budget);
        flags.choice("compression", *compression, default.compression);
        flags.choice("float-encoding", *float_encoding, default.float_encoding);
        flags.choice("class-type", *class_type, default.class_type);
        flags.switch("force", *force);
        flags.output(output);
        flags.0
    }
}

impl VerifyArgs {
    /// `predbench verify --input INPUT --messages MESSAGES`, other flags at their defaults.
    pub fn with_paths(input: &Path, messages: &Path) -> VerifyArgs {
        let input = input.display().to_string();
        let messages = messages.display().to_string();
        match parse(&["verify", "--input", &input, "--messages", &messages]) {
            Ok(Command::Verify(args)) => args,
            other => unreachable!("verify's defaults parse: {other:?}"),
        }
    }
}

impl ToArgv for VerifyArgs {
    fn to_argv(&self) -> Vec<String> {
        let default = VerifyArgs::with_paths(&self.input, &self.messages);
        let VerifyArgs {
            input,
            messages,
            grouping,
            group_size,
            max_message_bytes,
            any_grouping,
            any_message_order,
            id_column,
            non_finite,
            time_zone,
            max_problems,
            threads,
        } = self;
        let mut flags = Flags(vec!["verify".to_string()]);
        flags.path("input", input);
        flags.path("messages", messages);
        flags.choice("grouping", *grouping, default.grouping);
        flags.changed("group-size", group_size, &default.group_size);
        flags.optional("max-message-bytes", max_message_bytes);
        flags.switch("any-grouping", *any_grouping);
        flags.switch("any-message-order", *any_message_order);
        flags.changed("id-column", id_column, &default.id_column);
        flags.choice("non-finite", *non_finite, default.non_finite);
        flags.changed("time-zone", time_zone, &default.time_zone);
        flags.changed("max-problems", max_problems, &default.max_problems);
        flags.optional("threads", threads);
        flags.0
    }
}

impl PublishArgs {
    /// `predbench publish --messages MESSAGES --sink SINK`, other flags at their defaults.
    pub fn with_paths(messages: &Path, sink: &str) -> PublishArgs {
        let messages = messages.display().to_string();
        match parse(&["publish", "--messages", &messages, "--sink", sink]) {
            Ok(Command::Publish(args)) => args,
            other => unreachable!("publish's defaults parse: {other:?}"),
        }
    }
}

impl ToArgv for PublishArgs {
    fn to_argv(&self) -> Vec<String> {
        let default = PublishArgs::with_paths(&self.messages, &self.sink);
        let PublishArgs {
            messages,
            sink,
            confirm_window,
            repeat,
            output,
        } = self;
        let mut flags = Flags(vec!["publish".to_string()]);
        flags.path("messages", messages);
        flags.value("sink", sink);
        flags.changed("confirm-window", confirm_window, &default.confirm_window);
        flags.changed("repeat", repeat, &default.repeat);
        flags.output(output);
        flags.0
    }
}

impl DrainArgs {
    /// `predbench drain --from FROM --messages MESSAGES`, other flags at their defaults.
    pub fn with_paths(from: &str, messages: &Path) -> DrainArgs {
        let messages = messages.display().to_string();
        match parse(&["drain", "--from", from, "--messages", &messages]) {
            Ok(Command::Drain(args)) => args,
            other => unreachable!("drain's defaults parse: {other:?}"),
        }
    }
}

impl ToArgv for DrainArgs {
    fn to_argv(&self) -> Vec<String> {
        let default = DrainArgs::with_paths(&self.from, &self.messages);
        let DrainArgs {
            from,
            messages,
            first_group,
            last_group,
            until_empty,
            idle_seconds,
            window_bytes,
            part_bytes,
            compression,
            force,
            any_order,
            output,
        } = self;
        let mut flags = Flags(vec!["drain".to_string()]);
        flags.value("from", from);
        flags.path("messages", messages);
        flags.changed("first-group", first_group, &default.first_group);
        flags.optional("last-group", last_group);
        flags.switch("until-empty", *until_empty);
        flags.changed("idle-seconds", idle_seconds, &default.idle_seconds);
        flags.changed("window-bytes", window_bytes, &default.window_bytes);
        flags.changed("part-bytes", part_bytes, &default.part_bytes);
        flags.choice("compression", *compression, default.compression);
        flags.switch("force", *force);
        flags.switch("any-order", *any_order);
        flags.output(output);
        flags.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::*;
    use predbench_exporter::{
        DecodeAhead, EncoderChoice, Grouping, NonFiniteMode, NullMode, NumberFormat, Strategy,
    };
    use predbench_generator::{ClassType, Compression, DistributionKind, FloatEncoding};

    fn parsed(argv: &[String]) -> Command {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        parse(&words).unwrap_or_else(|error| panic!("{argv:?}: {error}"))
    }

    #[test]
    fn export_round_trips_with_every_flag_changed() {
        let args = ExportArgs {
            strategy: Strategy::WindowSort,
            grouping: Grouping::Packed,
            group_size: 7,
            sink: "parquet:out dir/messages.parquet".to_string(),
            confirm_window: 64,
            max_message_bytes: Some(262_144),
            checkpoint: Some(PathBuf::from("checkpoint.json")),
            resume: true,
            retry_seconds: 5,
            compression: Compression::Zstd,
            nulls: NullMode::Explicit,
            non_finite: NonFiniteMode::Null,
            time_zone: "Europe/Paris".parse().unwrap(),
            number_format: NumberFormat::Java,
            encoder: EncoderChoice::ArrowJson,
            threads: Some(3),
            chunk_rows: 4096,
            memory_budget: 123_456_789,
            spill_dir: Some(PathBuf::from("spill")),
            decode_ahead: DecodeAhead::On,
            decode_only: true,
            shard: Some("1/4".parse().unwrap()),
            force: true,
            output: Output {
                summary_json: Some(PathBuf::from("summary.json")),
                quiet: true,
            },
            ..ExportArgs::with_input(Path::new("data/some table"))
        };
        assert_eq!(parsed(&args.to_argv()), Command::Export(args.clone()));
        let plain = ExportArgs::with_input(Path::new("data"));
        assert_eq!(plain.to_argv(), ["export", "--input", "data"]);
        assert_eq!(parsed(&plain.to_argv()), Command::Export(plain));
    }

    #[test]
    fn generate_round_trips_with_every_flag_changed() {
        let args = GenerateArgs {
            shard: Some("0/2".parse().unwrap()),
            rows: 12_345,
            classes: 3,
            seed: 7,
            distribution: DistributionKind::Dirichlet,
            alpha: 0.25,
            null_rate: 0.01,
            nan_rate: 0.001,
            threads: Some(1),
            batch_rows: Some(8192),
            row_group_rows: Some(4096),
            file_rows: 10_000,
            memory_budget: Some(1 << 30),
            compression: Compression::None,
            float_encoding: FloatEncoding::ByteStreamSplit,
            class_type: ClassType::Float32,
            force: true,
            output: Output {
                summary_json: Some(PathBuf::from("s.json")),
                quiet: true,
            },
            ..GenerateArgs::with_out(Path::new("out"))
        };
        assert_eq!(parsed(&args.to_argv()), Command::Generate(args.clone()));
        let merge = GenerateArgs {
            out: None,
            merge_manifests: Some(PathBuf::from("dir")),
            ..GenerateArgs::with_out(Path::new("out"))
        };
        assert_eq!(parsed(&merge.to_argv()), Command::Generate(merge.clone()));
    }

    #[test]
    fn verify_and_publish_round_trip() {
        let verify = VerifyArgs {
            grouping: Grouping::Contiguous,
            group_size: 3,
            max_message_bytes: Some(1000),
            any_grouping: true,
            id_column: "id".to_string(),
            non_finite: NonFiniteMode::Error,
            time_zone: "+05:30".parse().unwrap(),
            max_problems: 3,
            threads: Some(2),
            ..VerifyArgs::with_paths(Path::new("in"), Path::new("out.parquet"))
        };
        assert_eq!(parsed(&verify.to_argv()), Command::Verify(verify.clone()));
        let in_any_order = VerifyArgs {
            any_grouping: false,
            any_message_order: true,
            ..verify
        };
        assert_eq!(
            parsed(&in_any_order.to_argv()),
            Command::Verify(in_any_order.clone())
        );
        let publish = PublishArgs {
            confirm_window: 64,
            repeat: 3,
            output: Output {
                summary_json: Some(PathBuf::from("s.json")),
                quiet: true,
            },
            ..PublishArgs::with_paths(Path::new("m.parquet"), "amqp://h/%2f?queue=q")
        };
        assert_eq!(
            parsed(&publish.to_argv()),
            Command::Publish(publish.clone())
        );
        let drain = DrainArgs {
            first_group: 5,
            last_group: Some(99),
            until_empty: true,
            idle_seconds: 1,
            window_bytes: 1 << 20,
            part_bytes: 4096,
            compression: Compression::Lz4,
            force: true,
            any_order: true,
            output: Output {
                summary_json: Some(PathBuf::from("s.json")),
                quiet: true,
            },
            ..DrainArgs::with_paths("amqp://h/%2f?queue=q", Path::new("drained"))
        };
        assert_eq!(parsed(&drain.to_argv()), Command::Drain(drain.clone()));
    }
}
