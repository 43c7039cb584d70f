//! One measured figure and the limit it is compared with.

use serde::Serialize;

/// A line of `bench/results.json`: `value` compared with `limit`, a figure measured in the
/// same run (so a busy machine slows both). `ratio` is `value / limit`; `goal` says which
/// ratio counts as met, e.g. `≤ 1.3` or `≥ 0.5`.
#[derive(Debug, Clone, Serialize)]
pub struct Figure {
    pub name: String,
    pub backend: String,
    pub value: f64,
    pub unit: String,
    pub limit: f64,
    pub ratio: f64,
    pub goal: String,
    pub met: bool,
}

impl Figure {
    /// Met when `value / limit ≤ max_ratio`.
    pub fn at_most(
        name: impl Into<String>,
        backend: &str,
        value: f64,
        unit: &str,
        limit: f64,
        max_ratio: f64,
    ) -> Self {
        let ratio = ratio(value, limit);
        Figure::new(
            name,
            backend,
            value,
            unit,
            limit,
            format!("≤ {max_ratio}"),
            ratio <= max_ratio,
        )
    }

    /// Met when `value / limit ≥ min_ratio`.
    pub fn at_least(
        name: impl Into<String>,
        backend: &str,
        value: f64,
        unit: &str,
        limit: f64,
        min_ratio: f64,
    ) -> Self {
        let ratio = ratio(value, limit);
        Figure::new(
            name,
            backend,
            value,
            unit,
            limit,
            format!("≥ {min_ratio}"),
            ratio >= min_ratio,
        )
    }

    /// A figure with an absolute goal (`value ≤ max`), e.g. rows written or megabytes;
    /// `limit` is the goal itself and `ratio` is `value / max`.
    pub fn absolute_at_most(
        name: impl Into<String>,
        backend: &str,
        value: f64,
        unit: &str,
        max: f64,
    ) -> Self {
        Figure::new(
            name,
            backend,
            value,
            unit,
            max,
            format!("≤ {max} {unit}"),
            value <= max,
        )
    }

    /// A figure that explains others instead of having a goal of its own (e.g. what one
    /// part of a sync costs against the same limit); `met` is true so that it never counts
    /// as a missed goal, and the table shows no verdict.
    pub fn bound(
        name: impl Into<String>,
        backend: &str,
        value: f64,
        unit: &str,
        limit: f64,
    ) -> Self {
        Figure::new(name, backend, value, unit, limit, BOUND.to_owned(), true)
    }

    /// A figure with its verdict: the `goal` it was held to and whether it `met` it.
    fn new(
        name: impl Into<String>,
        backend: &str,
        value: f64,
        unit: &str,
        limit: f64,
        goal: String,
        met: bool,
    ) -> Self {
        Figure {
            name: name.into(),
            backend: backend.to_owned(),
            value,
            unit: unit.to_owned(),
            limit,
            ratio: ratio(value, limit),
            goal,
            met,
        }
    }
}

/// The `goal` of a figure that has none (`Figure::bound`).
const BOUND: &str = "(a bound)";

fn ratio(value: f64, limit: f64) -> f64 {
    if limit == 0.0 {
        if value == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        value / limit
    }
}

/// The markdown table of the figures.
pub fn markdown(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| figure | backend | value | limit | ratio | goal | met |\n|---|---|---:|---:|---:|---|---|\n",
    );
    for f in figures {
        out.push_str(&format!(
            "| {} | {} | {} {} | {} | {:.2} | {} | {} |\n",
            f.name,
            f.backend,
            num(f.value),
            f.unit,
            num(f.limit),
            f.ratio,
            f.goal,
            if f.goal == BOUND {
                "—"
            } else if f.met {
                "yes"
            } else {
                "**no**"
            }
        ));
    }
    out
}

fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e12 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_compare_the_ratio_with_the_limit() {
        let f = Figure::at_most("sync", "sqlite", 2.6, "s", 2.0, 1.3);
        assert!((f.ratio - 1.3).abs() < 1e-9);
        assert!(f.met, "exactly at the goal is met");
        assert!(!Figure::at_most("sync", "sqlite", 2.7, "s", 2.0, 1.3).met);
        let f = Figure::at_least("pages", "postgres", 40.0, "pages/s", 100.0, 0.5);
        assert!(!f.met);
        assert_eq!(f.goal, "≥ 0.5");
        assert!(Figure::at_least("pages", "postgres", 50.0, "pages/s", 100.0, 0.5).met);
        let zero = Figure::absolute_at_most("rows", "sqlite", 0.0, "rows", 0.0);
        assert!(zero.met && zero.ratio == 0.0);
        let one = Figure::absolute_at_most("rows", "sqlite", 1.0, "rows", 0.0);
        assert!(!one.met && one.ratio.is_infinite());
        let table = markdown(&[one]);
        assert!(table.contains("| rows | sqlite | 1 rows | 0 |"), "{table}");
        assert!(table.contains("**no**"));
    }
}
