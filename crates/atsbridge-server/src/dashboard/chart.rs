//! The chart of runs over time, drawn on the server as SVG (no script): one bar per run for
//! its duration (left scale) and one dot per run for the records it changed (right scale),
//! oldest on the left. Colours are SVG attributes, not CSS, so the page's style policy needs
//! no inline styles.

use std::fmt::Write as _;

use atsbridge_store::RunRow;
use maud::{html, Markup, PreEscaped};

use super::layout::{changed, seconds, when};

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 56.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 34.0;

/// The escaped text of `s` for SVG content (numbers and times here, but run ids come from
/// the store).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG of `runs` (any order); ended runs only.
pub(crate) fn svg(runs: &[RunRow]) -> String {
    let mut runs: Vec<&RunRow> = runs.iter().filter(|r| r.ended_at.is_some()).collect();
    runs.sort_by_key(|r| r.started_at);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max_secs = runs
        .iter()
        .filter_map(|r| seconds(r))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let max_changed = runs.iter().map(|r| changed(r)).max().unwrap_or(0).max(1) as f64;
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="chart-title"><title id="chart-title">Run durations and records changed, oldest to newest</title>"##
    );
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="#fbfcfe" stroke="#d9dee7"/>"##
    );
    let bottom = TOP + plot_h;
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" font-size="11" text-anchor="end" fill="#2456c9">{max_secs:.1} s</text><text x="{x}" y="{bottom}" font-size="11" text-anchor="end" fill="#2456c9">0 s</text>"##,
        x = LEFT - 6.0,
        y = TOP + 10.0,
    );
    let _ = write!(
        out,
        r##"<text x="{x}" y="{y}" font-size="11" fill="#c2410c">{max_changed} rec.</text><text x="{x}" y="{bottom}" font-size="11" fill="#c2410c">0</text>"##,
        x = WIDTH - RIGHT + 6.0,
        y = TOP + 10.0,
    );
    if runs.is_empty() {
        let _ = write!(
            out,
            r##"<text x="{x}" y="{y}" font-size="13" text-anchor="middle" fill="#5b6575">No finished runs yet</text>"##,
            x = LEFT + plot_w / 2.0,
            y = TOP + plot_h / 2.0,
        );
    }
    let slot = plot_w / runs.len().max(1) as f64;
    let bar_w = (slot * 0.6).clamp(1.0, 40.0);
    let mut line = String::new();
    for (i, run) in runs.iter().enumerate() {
        let secs = seconds(run).unwrap_or(0.0);
        let n = changed(run);
        let cx = LEFT + slot * (i as f64 + 0.5);
        let h = secs / max_secs * plot_h;
        let fill = if run.state.as_str() == "SUCCEEDED" {
            "#2456c9"
        } else {
            "#b42318"
        };
        let label = esc(&format!(
            "{} · {} · {secs:.1} s · {n} records changed · {}",
            when(run.started_at),
            run.state.as_str(),
            run.id
        ));
        let _ = write!(
            out,
            r##"<rect class="bar" x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{h:.1}" fill="{fill}" opacity="0.75"><title>{label}</title></rect>"##,
            x = cx - bar_w / 2.0,
            y = bottom - h,
        );
        let cy = bottom - n as f64 / max_changed * plot_h;
        let _ = write!(line, "{cx:.1},{cy:.1} ");
        let _ = write!(
            out,
            r##"<circle class="dot" cx="{cx:.1}" cy="{cy:.1}" r="3" fill="#c2410c"><title>{label}</title></circle>"##
        );
    }
    if runs.len() > 1 {
        let _ = write!(
            out,
            r##"<polyline points="{}" fill="none" stroke="#c2410c" stroke-width="1.5"/>"##,
            line.trim_end()
        );
    }
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        let _ = write!(
            out,
            r##"<text x="{LEFT}" y="{y}" font-size="11" fill="#5b6575">{}</text><text x="{x}" y="{y}" font-size="11" text-anchor="end" fill="#5b6575">{}</text>"##,
            when(first.started_at),
            when(last.started_at),
            y = HEIGHT - 10.0,
            x = WIDTH - RIGHT,
        );
    }
    out.push_str("</svg>");
    out
}

/// The chart in a figure with its legend.
pub(crate) fn figure(runs: &[RunRow]) -> Markup {
    html! {
        figure.chart {
            (PreEscaped(svg(runs)))
            figcaption {
                "Bars: run duration (blue succeeded, red did not). Dots: records inserted, updated or deleted. Oldest on the left."
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use atsbridge_model::integration::SyncKind;
    use atsbridge_model::Timestamp;
    use atsbridge_store::{RunCounts, RunState};

    use super::*;

    fn run(id: &str, start_ms: i64, secs: i64, inserted: u64) -> RunRow {
        let mut counts = RunCounts::default();
        counts.inserted.insert("jobs".into(), inserted);
        RunRow {
            id: id.into(),
            integration_id: "i".into(),
            kind: SyncKind::Full,
            requested_kind: SyncKind::Full,
            state: RunState::Succeeded,
            worker: "w".into(),
            started_at: Timestamp::from_unix_millis(start_ms).unwrap(),
            ended_at: Some(Timestamp::from_unix_millis(start_ms + secs * 1000).unwrap()),
            counts,
            upstream_requests: 0,
            error: None,
        }
    }

    #[test]
    fn one_bar_and_one_dot_per_ended_run_scaled_to_the_longest() {
        let runs = [
            run("b", 2_000_000, 4, 10),
            run("a", 1_000_000, 2, 0),
            run("<x>", 3_000_000, 1, 5),
        ];
        let svg = svg(&runs);
        assert_eq!(svg.matches(r#"class="bar""#).count(), 3);
        assert_eq!(svg.matches(r#"class="dot""#).count(), 3);
        assert!(svg.contains("4.0 s"), "{svg}");
        assert!(svg.contains("10 rec."), "{svg}");
        // The longest run's bar fills the plot's height.
        assert!(svg.contains(&format!("height=\"{:.1}\"", HEIGHT - TOP - BOTTOM)));
        assert!(svg.contains("&lt;x&gt;") && !svg.contains("<x>"));
        // Oldest first: run `a` comes before `b`.
        assert!(svg.find("· a<").unwrap() < svg.find("· b<").unwrap());
    }
}
