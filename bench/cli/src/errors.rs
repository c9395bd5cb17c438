//! Errors as the command line says them, in one place: the libraries name
//! options (`max_message_bytes`, and `` `max_message_bytes` `` inside their
//! reasons), the user typed flags (`--max-message-bytes`).

use predbench_exporter::ExportError;
use predbench_generator::GeneratorError;

/// The flag of a library option: `max_message_bytes` is `--max-message-bytes`.
pub fn flag(option: &str) -> String {
    format!("--{}", option.replace('_', "-"))
}

/// `text` with every option the libraries mark (`` `max_message_bytes` ``)
/// written as its flag.
fn flags_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('`') else {
            break;
        };
        let word = &after[..end];
        out.push_str(&rest[..start]);
        if !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            out.push_str(&flag(word));
        } else {
            out.push_str(&rest[start..start + end + 2]);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// An error as the command line says it. Causes are joined by `: ` as
/// anyhow does; an invalid argument names its flag.
pub fn describe_error(error: &anyhow::Error) -> String {
    error
        .chain()
        .map(|cause| {
            if let Some(error) = cause.downcast_ref::<ExportError>() {
                match error {
                    ExportError::InvalidArgument { argument, reason } => {
                        format!("invalid argument {}: {}", flag(argument), flags_in(reason))
                    }
                    other => flags_in(&other.to_string()),
                }
            } else if let Some(error) = cause.downcast_ref::<GeneratorError>() {
                match error {
                    GeneratorError::InvalidArgument { argument, reason } => {
                        format!("invalid argument {}: {}", flag(argument), flags_in(reason))
                    }
                    other => flags_in(&other.to_string()),
                }
            } else {
                cause.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_options_become_flags() {
        let error = anyhow::Error::new(ExportError::invalid(
            "grouping",
            "packed needs `max_message_bytes`, the size",
        ))
        .context("cannot export data");
        assert_eq!(
            describe_error(&error),
            "cannot export data: invalid argument --grouping: packed needs --max-message-bytes, the size"
        );
        let error = anyhow::Error::new(GeneratorError::invalid(
            "null_rate",
            "must be between 0 and 1",
        ));
        assert_eq!(
            describe_error(&error),
            "invalid argument --null-rate: must be between 0 and 1"
        );
        let exists = anyhow::Error::new(ExportError::OutputExists("out.parquet".into()));
        assert_eq!(
            describe_error(&exists),
            "out.parquet exists: pass --force to replace it, or remove it"
        );
    }

    #[test]
    fn only_marked_option_names_change() {
        assert_eq!(flags_in("a `b_c` d"), "a --b-c d");
        assert_eq!(flags_in("`Weird Thing` and `x`"), "`Weird Thing` and --x");
        assert_eq!(flags_in("unpaired ` quote"), "unpaired ` quote");
        assert_eq!(flags_in("nothing"), "nothing");
    }
}
