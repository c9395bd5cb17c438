//! `compare --dry-run`: every planned run and its command line, in the
//! order the session runs them, with what is made unmeasured around them.

use std::fmt::Write as _;

use super::{EDGE_CASE_ROWS, Plan, ScalePlan, SessionPlan};

impl SessionPlan {
    /// Every planned run and its command line, for `--dry-run`.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        for scale in &self.scales {
            describe_scale(&mut out, scale);
        }
        if let Some(edge) = &self.edge_cases {
            let _ = writeln!(
                out,
                "{EDGE_CASE_ROWS} rows with NaN and nulls ({}): {}",
                edge.dataset.display(),
                edge.generate.join(" ")
            );
            for plan in &edge.exports {
                let _ = writeln!(out, "{}", describe_plan(plan));
            }
        }
        out
    }
}

fn describe_scale(out: &mut String, scale: &ScalePlan) {
    let _ = writeln!(
        out,
        "{} rows of {} ({})",
        scale.rows,
        scale.label,
        scale.dataset.display()
    );
    for plan in &scale.generators {
        let _ = writeln!(out, "{}", describe_plan(plan));
    }
    if let Some(making) = &scale.making {
        let _ = writeln!(
            out,
            "  if the dataset is still missing, made by: {}",
            making.command.join(" ")
        );
    }
    if let Some(check) = &scale.files_check {
        let _ = writeln!(out, "  check for repeated files: {}", check.join(" "));
    }
    for plan in &scale.disk_floors {
        let _ = writeln!(out, "{}", describe_plan(plan));
    }
    for preparation in &scale.preparations {
        let _ = writeln!(
            out,
            "  prepare {}: {}",
            preparation.name,
            preparation.command.join(" ")
        );
    }
    for plan in &scale.exports {
        let _ = writeln!(out, "{}", describe_plan(plan));
    }
    for fault in &scale.faults {
        let _ = writeln!(
            out,
            "  fault run, the broker restarted by `{}` once the queue holds half the messages \
             its runs delivered:\n{}",
            fault.restart,
            describe_plan(&fault.plan)
        );
    }
}

fn describe_plan(plan: &Plan) -> String {
    let mut text = format!(
        "  {}: {}",
        plan.configuration.name,
        plan.configuration.command.join(" ")
    );
    if let Some(verify) = &plan.verify {
        text.push_str(&format!("\n      verified by: {}", verify.join(" ")));
    }
    if plan.output_read_later {
        text.push_str("\n      its output kept for the publishers that read it");
    }
    if let Some(limit) = plan.time_limit {
        text.push_str(&format!("\n      killed after {} s", limit.as_secs()));
    }
    if let Some(why) = &plan.unavailable {
        text.push_str(&format!("\n      cannot run here: {why}"));
    }
    if let Some(follow_up) = &plan.follow_up {
        let when = if follow_up.configuration.beside_publisher {
            "beside it"
        } else {
            "then"
        };
        text.push_str(&format!(
            "\n    {when} {}",
            describe_plan(follow_up).trim_start()
        ));
    }
    text
}
