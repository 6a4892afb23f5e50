//! `clv plot`: SVG charts of a transaction log, its fitted model and its valuation.
//!
//! `clv plot --transactions FILE --calibration-end DATE --chart KIND [--end DATE] [--unit U]
//! [--model M] [--customer ID] [--by B] [--rules RULES.json] [--horizon H] [--margin M]
//! [--output FILE.svg]`. The model is fitted on the summaries at `--calibration-end`; the
//! charts that compare with a holdout need `--end`, its last day. KIND:
//!
//! - `period-transactions`: customers by repeat purchases in the calibration period, actual vs
//!   the model's expectation (Σ over customers of P(X(T) = x)), 7 or more pooled;
//! - `calibration-holdout`: mean holdout purchases by calibration frequency, actual vs expected;
//! - `tracking-cumulative`, `tracking-incremental`: repeat purchases period by period, actual vs
//!   expected, the holdout shaded;
//! - `p-alive-heatmap`, `expected-purchases-heatmap`: P(alive), and the purchases expected over
//!   `--horizon` (default 52 weeks), for every frequency and recency of a customer of the
//!   base's longest age;
//! - `p-alive-history`: one customer's (`--customer`) P(alive) day by day, its purchases marked;
//! - `clv-distribution`: the histogram of CLV beside its Lorenz curve, from the valuation at
//!   `--calibration-end`;
//! - `equity`: equity by `--by` asset-class (default), rfm, abc or tier (with `--rules`).
//!
//! The chart code writes SVG text; the caller writes it out. Each chart names its series in a
//! legend and its axes in words.

use std::collections::HashMap;

use chrono::NaiveDate;
use customer_assets::fit::Fit;
use customer_assets::kpi::Concentration;
use customer_assets::loyalty::Programme;
use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::ggompertz_nbd::GGompertzNbdParams;
use customer_assets::models::mbg_nbd::MbgNbdParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::validation::{validate, ValidationReport};
use customer_assets::valuation::{DiscountRate, EquityReport, GroupEquity, Valuation};
use customer_assets::{
    CustomerId, History, Ledger, Summaries, SummaryOptions, TimeUnit, Transaction, TransactionKind,
    TransactionModel,
};
use plotters::coord::Shift;
use plotters::prelude::*;
use rust_decimal::prelude::ToPrimitive;

use crate::common::{check_span, echo, write_error, Flags, MAX_HORIZON};

const CHARTS: &str = "period-transactions, calibration-holdout, tracking-cumulative, \
tracking-incremental, p-alive-heatmap, expected-purchases-heatmap, p-alive-history, \
clv-distribution, equity";
const WIDTH: u32 = 1000;
const HEIGHT: u32 = 600;
const FONT: &str = "sans-serif";
const ACTUAL: RGBColor = RGBColor(31, 119, 180);
const EXPECTED: RGBColor = RGBColor(214, 39, 40);
const SHADE: RGBColor = RGBColor(235, 235, 235);
/// The frequency from which `period-transactions` pools customers.
const POOLED_FROM: u32 = 7;
/// The heat maps' frequency axis stops here so that their cells stay legible.
const MAX_HEAT_FREQUENCY: u32 = 20;
/// The heat maps' recency axis has at most this many columns.
const MAX_HEAT_COLUMNS: u32 = 120;

type Canvas<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// A named line: its colour and its points.
type Line<'n> = (&'n str, RGBColor, Vec<(f64, f64)>);

/// A plotters error as text.
fn drawing<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw the chart: {e}")
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "transactions",
            "chart",
            "calibration-end",
            "end",
            "unit",
            "model",
            "customer",
            "by",
            "rules",
            "horizon",
            "margin",
            "discount",
        ],
    )?;
    if let Some(f) = flags.get("format").filter(|f| *f != "svg") {
        return Err(format!(
            "--format: {} is not svg, the format of a chart",
            echo(f)
        ));
    }
    let chart = flags.required("chart")?;
    let needs_holdout = matches!(
        chart,
        "calibration-holdout" | "tracking-cumulative" | "tracking-incremental"
    );
    if !CHARTS.split(", ").any(|c| c.trim() == chart) {
        return Err(format!("--chart: {} is not one of {CHARTS}", echo(chart)));
    }
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let calibration_end = flags.date("calibration-end")?;
    let end = flags.optional_date("end")?;
    if needs_holdout && end.is_none() {
        return Err(format!(
            "--end: --chart {chart} compares with a holdout: give its last day"
        ));
    }
    if let Some(end) = end {
        if end <= calibration_end {
            return Err(format!(
                "--end: {end} must be after --calibration-end {calibration_end}"
            ));
        }
    }
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let model_name = flags.get("model").unwrap_or("bg-nbd");
    if !matches!(model_name, "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd") {
        return Err(format!(
            "--model: {} is not one of bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd",
            echo(model_name)
        ));
    }
    let horizon = flags
        .number_in("horizon", 0.0, MAX_HORIZON, "a duration in --unit")?
        .unwrap_or_else(|| unit.from_days(364.0));
    let margin = flags.margin()?;
    let rate = flags.discount(unit)?;
    if chart == "p-alive-history" && flags.get("customer").is_none() {
        return Err("--customer: --chart p-alive-history draws one customer: name it".into());
    }
    let by = flags.get("by").unwrap_or("asset-class");
    if !matches!(by, "asset-class" | "rfm" | "abc" | "tier") {
        return Err(format!(
            "--by: {} is not one of asset-class, rfm, abc, tier",
            echo(by)
        ));
    }
    let programme = match (by, flags.get("rules")) {
        ("tier", Some(rules)) => Some(read_rules(rules)?),
        ("tier", None) => return Err("--by tier: give the loyalty programme with --rules".into()),
        _ => None,
    };

    let (ledger, first) = input.ledger()?;
    check_span("calibration-end", calibration_end, first, path)?;
    if let Some(end) = end {
        check_span("end", end, first, path)?;
    }
    let mut options = SummaryOptions::new(calibration_end, unit);
    if let Some(end) = end {
        options = options.holdout_end(end);
    }
    let summaries = ledger
        .summarize(options)
        .map_err(|e| format!("{path}: summarising at --calibration-end {calibration_end}: {e}"))?;
    if summaries.is_empty() {
        return Err(format!(
            "--calibration-end: {calibration_end} is before the first purchase in {path} \
             ({first}); no customer to fit on"
        ));
    }
    crate::progress::stage(format!(
        "fitting {model_name} on {} customers",
        summaries.len()
    ));
    let patterns = summaries.patterns();
    let fail = |e: customer_assets::FitError| format!("{path}: {e}");
    let model: Box<dyn TransactionModel> = match model_name {
        "bg-nbd" => Box::new(BgNbdParams::new().fit(&patterns).map_err(fail)?),
        "mbg-nbd" => Box::new(MbgNbdParams::new().fit(&patterns).map_err(fail)?),
        "ggom-nbd" => Box::new(GGompertzNbdParams::new().fit(&patterns).map_err(fail)?),
        _ => Box::new(ParetoNbdParams::new().fit(&patterns).map_err(fail)?),
    };
    crate::progress::stage(format!("drawing {chart}"));
    let svg = match chart {
        "period-transactions" => period_transactions(model.as_ref(), &summaries)?,
        "calibration-holdout" | "tracking-cumulative" | "tracking-incremental" => {
            let report = validate(model.as_ref(), &summaries, ledger.transactions())
                .map_err(|e| format!("{path}: validating {model_name}: {e}"))?;
            match chart {
                "calibration-holdout" => calibration_holdout(&report, unit)?,
                "tracking-cumulative" => tracking(&report, true)?,
                _ => tracking(&report, false)?,
            }
        }
        "p-alive-heatmap" | "expected-purchases-heatmap" => heat_map(
            model.as_ref(),
            &summaries,
            chart == "p-alive-heatmap",
            horizon,
        )?,
        "p-alive-history" => {
            let wanted = flags.required("customer")?;
            let id = CustomerId::new(wanted).map_err(|e| format!("--customer: {e}"))?;
            p_alive_history(model.as_ref(), &ledger, &id, calibration_end, unit, path)?
        }
        _ => {
            crate::progress::stage(format!("valuing {} customers", summaries.len()));
            let mut builder = Valuation::builder()
                .ledger(&ledger)
                .as_of(calibration_end)
                .unit(unit)
                .transaction_model(model)
                .fit_spend_model(GammaGammaParams::new())
                .margin(margin)
                .discount(
                    DiscountRate::continuous(rate, unit).map_err(|e| format!("--discount: {e}"))?,
                )
                .horizon(horizon)
                .segmenter("rfm", RfmParams::default())
                .segmenter("abc", AbcParams::default());
            if let Some(p) = &programme {
                builder = builder.tiers(p);
            }
            let report = builder
                .build()
                .map_err(|e| format!("{path}: {e}"))?
                .run()
                .map_err(|e| format!("{path}: valuing at --calibration-end: {e}"))?;
            if chart == "clv-distribution" {
                clv_distribution(&report)?
            } else {
                equity(&report, by)?
            }
        }
    };
    write_svg(flags.get("output"), &svg)
}

fn read_rules(path: &str) -> Result<Programme, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("--rules: cannot read {path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "--rules: {path}: {}",
            crate::common::cut_lines(&e.to_string(), 200)
        )
    })
}

fn write_svg(output: Option<&str>, svg: &str) -> Result<(), String> {
    use std::io::Write;
    match output.filter(|p| *p != "-") {
        Some(path) => {
            std::fs::write(path, svg).map_err(|e| format!("--output: cannot write {path}: {e}"))
        }
        None => {
            let mut out = crate::common::stdout();
            out.write_all(svg.as_bytes()).map_err(write_error)?;
            crate::common::finish(out)
        }
    }
}

/// Draws on an SVG canvas held in memory and returns its text.
fn svg(draw: impl FnOnce(&Canvas<'_>) -> Result<(), String>) -> Result<String, String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        draw(&root)?;
        root.present().map_err(drawing)?;
    }
    Ok(text)
}

/// An axis label: whole numbers on a wide axis, two places on a narrow one.
fn axis_number(v: f64, span: f64) -> String {
    if span >= 20.0 {
        format!("{v:.0}")
    } else if span >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn caption(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().into()
}

/// Groups of bars, one per category, one bar per series; a legend names the series.
fn grouped_bars(
    root: &Canvas<'_>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    categories: &[String],
    series: &[(&str, RGBColor, Vec<f64>)],
) -> Result<(), String> {
    let top = series
        .iter()
        .flat_map(|(_, _, v)| v.iter().copied())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.1;
    let n = categories.len();
    // Category k is centred on x = k: the axis's key points fall on the whole numbers.
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption(22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5..n as f64 - 0.5, 0.0..top)
        .map_err(drawing)?;
    let labels = categories.to_vec();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(BLACK.mix(0.03))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(n + 1)
        .x_label_formatter(&move |v| {
            let k = v.round();
            if (v - k).abs() < 1e-6 && k >= 0.0 {
                labels.get(k as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| axis_number(*v, top))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .draw()
        .map_err(drawing)?;
    let width = 0.8 / series.len().max(1) as f64;
    for (s, (name, color, values)) in series.iter().enumerate() {
        let color = *color;
        chart
            .draw_series(values.iter().enumerate().map(|(k, &v)| {
                let x0 = k as f64 - 0.4 + s as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, v)], color.filled())
            }))
            .map_err(drawing)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()
        .map_err(drawing)?;
    Ok(())
}

/// Lines through points, one per series; `shade_from` shades the x range from there on.
#[allow(clippy::too_many_arguments)]
fn lines(
    root: &Canvas<'_>,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[Line<'_>],
    shade_from: Option<(f64, &str)>,
    x_range: Option<(f64, f64)>,
    y_range: Option<(f64, f64)>,
) -> Result<(), String> {
    let all = || series.iter().flat_map(|(_, _, p)| p.iter().copied());
    let (x0, x1) = x_range.unwrap_or_else(|| {
        let lo = all().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let hi = all().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        if lo.is_finite() && hi > lo {
            (lo, hi)
        } else {
            (0.0, 1.0)
        }
    });
    let (y0, y1) =
        y_range.unwrap_or_else(|| (0.0, all().map(|p| p.1).fold(0.0, f64::max).max(1e-9) * 1.1));
    let mut chart = ChartBuilder::on(root)
        .caption(title, caption(22))
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(drawing)?;
    if let Some((from, label)) = shade_from {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(from, y0), (x1, y1)],
                SHADE.filled(),
            )))
            .map_err(drawing)?;
        chart
            .draw_series(std::iter::once(Text::new(
                label.to_string(),
                (from + (x1 - x0) * 0.01, y1 * 0.95),
                (FONT, 14).into_font(),
            )))
            .map_err(drawing)?;
    }
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(10)
        .x_label_formatter(&|v| axis_number(*v, x1 - x0))
        .y_label_formatter(&|v| axis_number(*v, y1 - y0))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .draw()
        .map_err(drawing)?;
    for (k, (name, color, points)) in series.iter().enumerate() {
        let style = color.stroke_width(3);
        let drawn = if k == 0 {
            chart.draw_series(LineSeries::new(points.iter().copied(), style))
        } else {
            chart.draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))
        };
        drawn
            .map_err(drawing)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()
        .map_err(drawing)?;
    Ok(())
}

/// Customers by repeat purchases in the calibration period: actual and expected.
fn period_transactions(
    model: &dyn TransactionModel,
    summaries: &Summaries,
) -> Result<String, String> {
    let buckets = POOLED_FROM as usize + 1;
    let mut actual = vec![0.0; buckets];
    // Customers of equal age share their probabilities: one computation per age.
    let mut ages: HashMap<u64, f64> = HashMap::new();
    for s in summaries.iter() {
        actual[(s.frequency().min(POOLED_FROM)) as usize] += 1.0;
        *ages.entry(s.age().to_bits()).or_default() += 1.0;
    }
    let mut expected = vec![0.0; buckets];
    for (bits, count) in ages {
        let age = f64::from_bits(bits);
        let mut below = 0.0;
        for x in 0..POOLED_FROM {
            let p = model
                .purchase_probability_new(x, age)
                .map_err(|e| format!("the model's P(X = {x}): {e}"))?;
            expected[x as usize] += count * p;
            below += p;
        }
        expected[POOLED_FROM as usize] += count * (1.0 - below).max(0.0);
    }
    let categories: Vec<String> = (0..buckets)
        .map(|x| {
            if x == POOLED_FROM as usize {
                format!("{x}+")
            } else {
                x.to_string()
            }
        })
        .collect();
    svg(|root| {
        grouped_bars(
            root,
            &format!(
                "Repeat purchases in the calibration period: actual vs {}",
                model.name()
            ),
            "repeat purchases in the calibration period",
            "customers",
            &categories,
            &[("actual", ACTUAL, actual), ("expected", EXPECTED, expected)],
        )
    })
}

/// Mean holdout purchases by calibration frequency: actual and expected.
fn calibration_holdout(report: &ValidationReport, unit: TimeUnit) -> Result<String, String> {
    let point =
        |b: &customer_assets::validation::FrequencyBucket, v: f64| (f64::from(b.frequency), v);
    let actual = report
        .by_frequency
        .iter()
        .map(|b| point(b, b.actual_mean))
        .collect();
    let expected = report
        .by_frequency
        .iter()
        .map(|b| point(b, b.expected_mean))
        .collect();
    svg(|root| {
        lines(
            root,
            &format!(
                "Holdout purchases by calibration frequency: actual vs {}",
                report.model
            ),
            "repeat purchases in the calibration period (the last bucket pools the rest)",
            &format!(
                "mean purchases in the holdout ({:.0} {})",
                report.holdout_length,
                unit_name(unit)
            ),
            &[("actual", ACTUAL, actual), ("expected", EXPECTED, expected)],
            None,
            None,
            None,
        )
    })
}

fn unit_name(unit: TimeUnit) -> String {
    if unit == TimeUnit::WEEKS {
        "weeks".into()
    } else if unit == TimeUnit::DAYS {
        "days".into()
    } else {
        format!("units of {} days", unit.days())
    }
}

/// Repeat purchases period by period (or cumulated), actual and expected, the holdout shaded.
fn tracking(report: &ValidationReport, cumulative: bool) -> Result<String, String> {
    let pick = |actual: bool| -> Vec<(f64, f64)> {
        report
            .tracking
            .iter()
            .map(|p| {
                let v = match (cumulative, actual) {
                    (true, true) => p.actual_cumulative,
                    (true, false) => p.expected_cumulative,
                    (false, true) => p.actual,
                    (false, false) => p.expected,
                };
                (f64::from(p.period), v)
            })
            .collect()
    };
    let split = report
        .tracking
        .iter()
        .find(|p| p.holdout)
        .map(|p| f64::from(p.period) - 0.5);
    let first = report.tracking.first().map(|p| p.end);
    let what = if cumulative { "Cumulative" } else { "Weekly" };
    svg(|root| {
        lines(
            root,
            &format!("{what} repeat purchases: actual vs {}", report.model),
            &match first {
                Some(d) => format!("week (week 1 ends {d})"),
                None => "week".to_string(),
            },
            if cumulative {
                "cumulative repeat purchases"
            } else {
                "repeat purchases in the week"
            },
            &[
                ("actual", ACTUAL, pick(true)),
                ("expected", EXPECTED, pick(false)),
            ],
            split.map(|s| (s, "holdout")),
            None,
            None,
        )
    })
}

/// A perceptually even blue-green-yellow scale (viridis stops), `v` in 0..=1.
fn viridis(v: f64) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let x = v.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    let lerp = |p: f64, q: f64| (p + (q - p) * f).round() as u8;
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// P(alive), or the purchases expected over `horizon`, for every frequency x and recency t_x of
/// a customer of the base's longest age (whole units).
fn heat_map(
    model: &dyn TransactionModel,
    summaries: &Summaries,
    p_alive: bool,
    horizon: f64,
) -> Result<String, String> {
    let age = summaries
        .iter()
        .map(|s| s.age())
        .fold(0.0, f64::max)
        .floor()
        .max(1.0);
    let max_x = summaries
        .iter()
        .map(|s| s.frequency())
        .max()
        .unwrap_or(0)
        .clamp(1, MAX_HEAT_FREQUENCY);
    let columns = (age as u32).min(MAX_HEAT_COLUMNS);
    let step = age / f64::from(columns);
    let mut cells = Vec::with_capacity(((max_x + 1) * (columns + 1)) as usize);
    for x in 0..=max_x {
        for c in 0..=columns {
            let recency = if x == 0 { 0.0 } else { f64::from(c) * step };
            let h = History::new(x, recency, age);
            let v = if p_alive {
                model.p_alive(&h, 0.0)
            } else {
                model.expected_purchases(&h, horizon)
            }
            .map_err(|e| format!("the model at x = {x}, t_x = {recency}: {e}"))?;
            cells.push((c, x, v));
        }
    }
    let top = if p_alive {
        1.0
    } else {
        cells.iter().map(|c| c.2).fold(0.0, f64::max).max(1e-9)
    };
    let title = if p_alive {
        format!(
            "P(alive) of a customer first seen {age:.0} time units ago ({})",
            model.name()
        )
    } else {
        format!(
            "Purchases expected in the next {horizon:.0} time units, customer first seen {age:.0} ago ({})",
            model.name()
        )
    };
    svg(|root| {
        let (main, legend) = root.split_horizontally(WIDTH - 130);
        let mut chart = ChartBuilder::on(&main)
            .caption(&title, caption(20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..f64::from(columns) + 0.5, -0.5..f64::from(max_x) + 0.5)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("recency t_x: time of the last purchase, in time units since the first")
            .y_desc("frequency x: repeat purchases")
            .x_label_formatter(&|v| format!("{:.0}", v * step))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 13))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(cells.iter().map(|&(c, x, v)| {
                let (cx, cy) = (f64::from(c), f64::from(x));
                Rectangle::new(
                    [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                    viridis(v / top).filled(),
                )
            }))
            .map_err(drawing)?;
        legend
            .draw(&Text::new(
                if p_alive { "P(alive)" } else { "purchases" },
                (40, 30),
                (FONT, 16).into_font(),
            ))
            .map_err(drawing)?;
        let mut bar = ChartBuilder::on(&legend)
            .margin_top(60)
            .margin_bottom(80)
            .margin_right(20)
            .y_label_area_size(60)
            .x_label_area_size(10)
            .build_cartesian_2d(0.0..1.0, 0.0..top)
            .map_err(drawing)?;
        bar.configure_mesh()
            .disable_mesh()
            .disable_x_axis()
            .y_labels(6)
            .label_style((FONT, 13))
            .draw()
            .map_err(drawing)?;
        bar.draw_series((0..50).map(|i| {
            let lo = f64::from(i) / 50.0;
            Rectangle::new(
                [(0.0, lo * top), (1.0, (lo + 0.02) * top)],
                viridis(lo + 0.01).filled(),
            )
        }))
        .map_err(drawing)?;
        Ok(())
    })
}

/// One customer's P(alive) on every day from their first purchase to `end`, purchases marked.
fn p_alive_history(
    model: &dyn TransactionModel,
    ledger: &Ledger,
    id: &CustomerId,
    end: NaiveDate,
    unit: TimeUnit,
    path: &str,
) -> Result<String, String> {
    let mut days: Vec<NaiveDate> = ledger
        .transactions()
        .iter()
        .filter(|t: &&Transaction| t.customer() == id && t.kind() == TransactionKind::Purchase)
        .map(Transaction::date)
        .filter(|d| *d <= end)
        .collect();
    days.sort_unstable();
    days.dedup();
    let Some(&first) = days.first() else {
        return Err(format!(
            "--customer: {} has no purchase in {path} on or before --calibration-end",
            echo(&id.to_string())
        ));
    };
    let span = (end - first).num_days();
    let mut points = Vec::with_capacity(span as usize + 1);
    let mut marks = Vec::new();
    let mut next = 1usize;
    let (mut x, mut last) = (0u32, 0.0f64);
    for d in 0..=span {
        let t = unit.from_days(d as f64);
        if days
            .get(next)
            .is_some_and(|day| (*day - first).num_days() == d)
        {
            x += 1;
            last = t;
            next += 1;
        }
        let p = model.p_alive(&History::new(x, last, t), 0.0).map_err(|e| {
            format!(
                "--customer {}: P(alive) at day {d}: {e}",
                echo(&id.to_string())
            )
        })?;
        points.push((t, p));
        if d == 0 || last == t && x > 0 {
            marks.push((t, p));
        }
    }
    let title = format!(
        "P(alive) of customer {} ({}), from the first purchase ({first})",
        id,
        model.name()
    );
    svg(|root| {
        let t_end = points.last().map_or(1.0, |p| p.0).max(1e-9);
        let mut chart = ChartBuilder::on(root)
            .caption(&title, caption(20))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(80)
            .build_cartesian_2d(0.0..t_end, 0.0..1.05)
            .map_err(drawing)?;
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.03))
            .x_desc(format!(
                "time since the first purchase ({})",
                unit_name(unit)
            ))
            .y_desc("P(alive)")
            .axis_desc_style((FONT, 16))
            .label_style((FONT, 13))
            .draw()
            .map_err(drawing)?;
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                ACTUAL.stroke_width(2),
            ))
            .map_err(drawing)?
            .label("P(alive)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ACTUAL.stroke_width(2)));
        chart
            .draw_series(marks.iter().map(|&p| Circle::new(p, 5, EXPECTED.filled())))
            .map_err(drawing)?
            .label("purchase")
            .legend(|(x, y)| Circle::new((x + 10, y), 5, EXPECTED.filled()));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font((FONT, 14))
            .draw()
            .map_err(drawing)?;
        Ok(())
    })
}

/// The histogram of CLV beside its Lorenz curve.
fn clv_distribution(report: &EquityReport) -> Result<String, String> {
    let clvs: Vec<f64> = report
        .customers
        .iter()
        .map(|c| c.clv.to_f64().unwrap_or(0.0))
        .collect();
    let concentration =
        Concentration::new(&clvs).map_err(|e| format!("the CLV distribution: {e}"))?;
    let mut sorted = clvs.clone();
    sorted.sort_by(f64::total_cmp);
    // 12 bands up to the 99th percentile; the top 1% pooled in the last.
    let cap = sorted
        .get(((sorted.len() as f64) * 0.99) as usize)
        .copied()
        .unwrap_or(0.0)
        .max(1e-9);
    let bands = 12usize;
    let mut counts = vec![0.0; bands + 1];
    for v in &sorted {
        let k = if *v > cap {
            bands
        } else {
            ((v / cap) * bands as f64).floor() as usize
        };
        counts[k.min(bands)] += 1.0;
    }
    let categories: Vec<String> = (0..=bands)
        .map(|k| {
            if k == bands {
                "top 1%".to_string()
            } else {
                format!("{:.0}", cap * k as f64 / bands as f64)
            }
        })
        .collect();
    let total: f64 = sorted.iter().sum::<f64>().max(1e-9);
    let n = sorted.len().max(1) as f64;
    let mut lorenz = vec![(0.0, 0.0)];
    let mut acc = 0.0;
    let step = (sorted.len() / 200).max(1);
    for (k, v) in sorted.iter().enumerate() {
        acc += v;
        if (k + 1) % step == 0 || k + 1 == sorted.len() {
            lorenz.push(((k + 1) as f64 / n, acc / total));
        }
    }
    let gini = concentration.gini();
    svg(|root| {
        let (left, right) = root.split_horizontally(WIDTH * 3 / 5);
        grouped_bars(
            &left,
            "Customer lifetime value",
            "CLV (lower bound of the band)",
            "customers",
            &categories,
            &[("customers", ACTUAL, counts)],
        )?;
        lines(
            &right,
            &format!("Lorenz curve of CLV (Gini {gini:.3})"),
            "share of customers, lowest CLV first",
            "share of equity",
            &[
                ("Lorenz curve", ACTUAL, lorenz),
                ("equality", EXPECTED, vec![(0.0, 0.0), (1.0, 1.0)]),
            ],
            None,
            Some((0.0, 1.0)),
            Some((0.0, 1.0)),
        )
    })
}

/// Equity by asset class, RFM or ABC segment, or loyalty tier, in the report's order.
fn equity(report: &EquityReport, by: &str) -> Result<String, String> {
    let groups: &[GroupEquity] = match by {
        "asset-class" => &report.by_asset_class,
        "tier" => &report.by_tier,
        name => report
            .by_segment
            .iter()
            .find(|s| s.segmenter == name)
            .map(|s| s.segments.as_slice())
            .ok_or_else(|| format!("--by {name}: the report has no such segments"))?,
    };
    let categories: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let values: Vec<f64> = groups
        .iter()
        .map(|g| g.equity.to_f64().unwrap_or(0.0))
        .collect();
    let total = report.equity.to_f64().unwrap_or(0.0);
    svg(|root| {
        grouped_bars(
            root,
            &format!("Customer equity by {by}: {total:.0} in all"),
            by,
            "equity (sum of CLV)",
            &categories,
            &[("equity", ACTUAL, values)],
        )
    })
}
