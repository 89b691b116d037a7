//! The console exporters, as a newcomer sees them: a trace tree, a metric summary, log lines.

mod support;

#[test]
fn console_prints_a_tree_a_summary_and_log_lines() {
    let run = support::program::run(env!("CARGO_BIN_EXE_console_program"), &[("NO_COLOR", "1")]);
    assert_eq!(run.code, Some(0), "{run:#?}");
    let out = &run.stdout;
    let lines: Vec<&str> = out.lines().collect();
    let find = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
    };
    let log = find("20");
    assert!(lines[log].contains("INFO  fetched input"), "{out}");
    assert!(
        lines[log].contains("trace="),
        "log lines carry the trace id: {out}"
    );

    let trace = find("trace ");
    let trace_id = lines[trace].trim_start_matches("trace ").trim();
    assert_eq!(trace_id.len(), 32, "{out}");
    assert!(lines[log].contains(&format!("trace={trace_id}")), "{out}");
    assert!(lines[trace + 1].starts_with("└─ job "), "{out}");
    assert!(lines[trace + 1].contains("job.id=7"), "{out}");
    assert!(lines[trace + 2].starts_with("   ├─ fetch "), "{out}");
    assert!(
        lines[trace + 3].starts_with("   │    • fetched input +"),
        "{out}"
    );
    assert!(lines[trace + 4].starts_with("   └─ process "), "{out}");
    assert!(lines[trace + 4].contains("ERROR bad input"), "{out}");

    // Scopes, and a point's attributes, come in no fixed order: the program's counter and
    // otel's build_info follow the heading, one line each.
    let metrics = find("metrics");
    let summary = &lines[metrics + 1..];
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("  jobs.done counter = 2  queue=\"default\"")),
        "{out}"
    );
    assert!(
        summary
            .iter()
            .any(|l| l.starts_with("  build_info gauge = 1  ") && l.contains("version=\"")),
        "{out}"
    );
}
