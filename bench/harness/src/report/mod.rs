//! `predbench-harness report`: renders `results/REPORT.md` (the verdict and one
//! decision table per dataset size, each from one session), its charts,
//! `results/APPENDIX.md` (everything else) and the README's results block,
//! from the committed records alone, so anyone can re-render and check them.
//! Nothing is written until everything is rendered; each file appears whole.

mod charts;
mod criterion;
mod decision;
mod delivery;
mod markdown;
mod memory;
mod model;
mod scale_out;
mod sessions;
mod sizes;
mod variants;
mod verdict;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::args::ReportArgs;
use crate::record::load_sessions;
use decision::{Conventions, decisions};
use model::Model;

/// The README's block the report owns.
pub const README_BEGIN: &str = "<!-- predbench report: begin -->";
/// Where that block ends.
pub const README_END: &str = "<!-- predbench report: end -->";

/// Which sessions each part of the report draws on, for the sessions list.
#[derive(Default)]
pub struct Used(BTreeMap<String, Vec<String>>);

impl Used {
    /// Notes that `what` uses `session`.
    pub fn note(&mut self, session: &str, what: &str) {
        let uses = self.0.entry(session.to_string()).or_default();
        if !uses.iter().any(|known| known == what) {
            uses.push(what.to_string());
        }
    }

    /// What uses `session`.
    pub fn of(&self, session: &str) -> Vec<String> {
        self.0.get(session).cloned().unwrap_or_default()
    }
}

/// Everything the report writes, rendered.
pub struct Rendered {
    /// `REPORT.md`.
    pub report: String,
    /// `APPENDIX.md`.
    pub appendix: String,
    /// The README's block, markers excluded.
    pub readme_block: String,
    /// The charts.
    pub charts: Vec<charts::Chart>,
}

/// Runs `predbench-harness report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    if let Some(directory) = &args.import_criterion {
        let info = crate::machine::describe_session(&args.results, &[], &Default::default());
        let path = criterion::import(directory, &args.results, info)?;
        println!("recorded the criterion estimates in {}", path.display());
    }
    let sessions = load_sessions(&args.results)?;
    let criterion = criterion::newest_record(&args.results)?;
    let model = Model::new(sessions, &args.results);
    let rendered = render(&model, criterion.as_ref())?;

    let out_dir = args
        .out
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let chart_dir = out_dir.join("charts");
    fs::create_dir_all(&chart_dir)
        .with_context(|| format!("cannot create {}", chart_dir.display()))?;
    let readme = readme_with_block(&args.readme, &rendered.readme_block)?;
    for chart in &rendered.charts {
        write_file(&chart_dir.join(&chart.name), chart.svg.as_bytes())?;
    }
    remove_stale_charts(&chart_dir, &rendered.charts);
    write_file(&out_dir.join("APPENDIX.md"), rendered.appendix.as_bytes())?;
    write_file(&args.out, rendered.report.as_bytes())?;
    if let Some(readme) = &readme {
        write_file(&args.readme, readme.as_bytes())?;
    }
    println!(
        "wrote {} and {} ({} sessions, {} charts){}",
        args.out.display(),
        out_dir.join("APPENDIX.md").display(),
        model.sessions.len(),
        rendered.charts.len(),
        if readme.is_some() {
            format!("; updated the results block of {}", args.readme.display())
        } else {
            String::new()
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// Renders every file from the model.
pub fn render(
    model: &Model,
    criterion: Option<&criterion::CriterionRecord>,
) -> anyhow::Result<Rendered> {
    let mut used = Used::default();
    let decisions = decisions(model);
    let conventions = Conventions::of(model);
    for decision in &decisions {
        used.note(
            decision.session.id(),
            &format!("decision table, {}", decision.title()),
        );
    }
    if let Some(session) = conventions.session {
        used.note(session.id(), "NaN and nulls");
    }
    let studies = memory::studies(model);
    let verdict = verdict::render(model, &decisions, &conventions, &studies);
    let mut tables = String::new();
    for decision in &decisions {
        tables.push_str(&decision::render(decision, &conventions));
    }
    tables.push_str(&legend(&conventions));
    let mut charts = Vec::new();
    let mut chart_links = String::new();
    for decision in &decisions {
        let drawn = charts::decision_charts(decision)?;
        chart_links.push_str(&format!(
            "{}\n\n",
            drawn
                .iter()
                .map(|chart| format!("![{}](charts/{})", chart.name, chart.name))
                .collect::<Vec<_>>()
                .join(" ")
        ));
        charts.extend(drawn);
    }
    let memory = memory::render(&studies, &mut used);
    charts.extend(memory::charts(&studies)?);
    let report = format!(
        "# predbench report: how to export 60 million predictions as JSON messages\n\n\
         Rendered by `predbench-harness report` from the run records under `results/` ({} sessions); \
         every figure comes from a record, and every table from one session, named with it. \
         Everything else (per-configuration tables, predbench's own files, past one machine, \
         delivery to a queue, `cargo bench`, the sessions list) is in [APPENDIX.md](APPENDIX.md).\n\n\
         ## Verdict\n\n{verdict}## Decision tables\n\n{tables}{memory}## Charts\n\n{chart_links}",
        model.sessions.len()
    );
    let appendix = appendix(model, &decisions, criterion, &mut used);
    let readme_block = format!(
        "\n### Verdict\n\n{verdict}### Decision tables\n\n{}The report, its charts and its \
         appendix: [results/REPORT.md](results/REPORT.md).\n",
        tables.replace("](APPENDIX.md)", "](results/APPENDIX.md)")
    );
    Ok(Rendered {
        report,
        appendix,
        readme_block,
        charts,
    })
}

fn legend(conventions: &Conventions) -> String {
    format!(
        "\"wall s\" is the child process's wall time from spawn to exit; \"× rayon\" divides it \
         by the `rayon` row's, printed in its header; CPU seconds are the process tree's. \
         \"output\" is `predbench verify` of the first run's output (✓: every prediction once, \
         values equal bit for bit) or, for a run that failed, how it ended. \"NaN and nulls\" \
         is what each exporter wrote for a table with NaN and nulls{}.\n\n",
        conventions.session.map_or_else(
            || " (not measured: run `compare --peers` without --skip-edge-cases)".to_string(),
            |session| format!(" (session {})", session.id())
        )
    )
}

fn appendix(
    model: &Model,
    decisions: &[decision::Decision],
    criterion: Option<&criterion::CriterionRecord>,
    used: &mut Used,
) -> String {
    let mut out = String::from(
        "# predbench report: appendix\n\nEverything the [report](REPORT.md) leaves out, rendered \
         from the same records. Every table comes from one session, named with it; a session \
         whose every configuration a newer one re-measured is listed at the end only.\n\n",
    );
    out.push_str(&sessions::render_peers(decisions));
    out.push_str(&variants::render_variants(decisions));
    out.push_str(&variants::render_equal_codec(model, used));
    out.push_str(&scale_out::render(model, used));
    out.push_str(&delivery::render(model, used));
    out.push_str(&sizes::render(model, used));
    out.push_str(&criterion::render(criterion));
    out.push_str(&sessions::render(model, used));
    out
}

/// The README with its results block replaced; `None` when it has no block
/// (or does not exist): a README is never written without markers.
fn readme_with_block(path: &Path, block: &str) -> anyhow::Result<Option<String>> {
    let Ok(text) = fs::read_to_string(path) else {
        return Ok(None);
    };
    let (Some(begin), Some(end)) = (text.find(README_BEGIN), text.find(README_END)) else {
        return Ok(None);
    };
    if end < begin {
        anyhow::bail!(
            "{}: `{README_END}` comes before `{README_BEGIN}`",
            path.display()
        );
    }
    Ok(Some(format!(
        "{}{README_BEGIN}{block}{}",
        &text[..begin],
        &text[end..]
    )))
}

fn remove_stale_charts(chart_dir: &Path, written: &[charts::Chart]) {
    let Ok(entries) = fs::read_dir(chart_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".svg") && !written.iter().any(|chart| chart.name == name) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Writes a rendered file atomically, naming it when that fails.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    predbench_common::atomic_file::write_atomically(path, bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}
