//! Plots: SVG charts of a simulated customer base that a manager would rather look at than read.
//!
//! ```text
//! cargo run --release --example plots            # writes into target/plots
//! cargo run --release --example plots -- out/    # or into a folder of your choice
//! ```
//!
//! The example simulates 5,000 CDNOW-like customers (Pareto/NBD purchasing, Gamma-Gamma spend,
//! acquired over the first 12 weeks), splits 78 weeks into 39 weeks of calibration and 39 of
//! holdout, fits Pareto/NBD on the calibration period, values the base at the end of the holdout
//! and writes four charts:
//!
//! - `tracking.svg`: cumulative repeat transactions per week, actual vs the fitted model;
//! - `p_alive_heatmap.svg`: P(alive) by frequency and recency after 39 weeks;
//! - `clv_distribution.svg`: the histogram of customer lifetime value and its Lorenz curve;
//! - `equity_by_segment.svg`: customer equity by RFM segment.
use std::error::Error;
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use customer_assets::fit::Fit;
use customer_assets::kpi::Concentration;
use customer_assets::models::{GammaGammaParams, ParetoNbdParams};
use customer_assets::segment::rfm::RfmParams;
use customer_assets::simulate::{simulate, GammaGammaSpend, ParetoNbdProcess, SimulationOptions};
use customer_assets::validation::{validate, TrackingPoint};
use customer_assets::valuation::{DiscountRate, GroupEquity, Valuation};
use customer_assets::{History, Ledger, LedgerOptions, SummaryOptions, TimeUnit, TransactionModel};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use rust_decimal::prelude::ToPrimitive;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const CUSTOMERS: usize = 5_000;
const CALIBRATION_WEEKS: u64 = 39;
const HOLDOUT_WEEKS: u64 = 39;
/// The heat map's frequency axis stops here so that its cells stay legible.
const MAX_FREQUENCY: u32 = 20;

const WIDTH: u32 = 1000;
const HEIGHT: u32 = 600;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(40, 40, 40);
const ACTUAL: RGBColor = RGBColor(31, 119, 180);
const EXPECTED: RGBColor = RGBColor(214, 39, 40);
const BAR: RGBColor = RGBColor(31, 119, 180);
const OVERFLOW: RGBColor = RGBColor(255, 127, 14);
const SHADE: RGBColor = RGBColor(235, 235, 235);

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/plots".to_string()),
    );
    std::fs::create_dir_all(&out)?;

    let start = NaiveDate::from_ymd_opt(2024, 1, 1).ok_or("bad date")?;
    let calibration_end = start
        .checked_add_days(Days::new(7 * CALIBRATION_WEEKS - 1))
        .ok_or("bad date")?;
    let holdout_end = calibration_end
        .checked_add_days(Days::new(7 * HOLDOUT_WEEKS))
        .ok_or("bad date")?;

    // A CDNOW-like base: Pareto/NBD purchasing in weeks, Gamma-Gamma spend in dollars.
    let process = ParetoNbdProcess::new(0.55, 10.58, 0.61, 11.67)?;
    let options = SimulationOptions::new(CUSTOMERS, start, holdout_end, TimeUnit::WEEKS, 7)
        .acquisition_days(84)
        .spend(GammaGammaSpend::new(6.25, 3.74, 15.44)?);
    let base = simulate(&process, &options)?;
    let mut ledger = Ledger::new(LedgerOptions::default());
    ledger.extend_customers(base.customers().iter().cloned())?;
    ledger.extend_transactions(base.transactions().iter().cloned())?;

    // Fit on the calibration period and validate on the holdout.
    let calibration = ledger.summarize(
        SummaryOptions::new(calibration_end, TimeUnit::WEEKS).holdout_end(holdout_end),
    )?;
    let model = ParetoNbdParams::new().fit(&calibration.patterns())?;
    let validation = validate(&model, &calibration, ledger.transactions())?;
    let max_frequency = calibration
        .iter()
        .map(|s| s.frequency())
        .max()
        .unwrap_or(0)
        .min(MAX_FREQUENCY);

    // Value the whole base at the end of the holdout.
    let report = Valuation::builder()
        .ledger(&ledger)
        .as_of(holdout_end)
        .unit(TimeUnit::WEEKS)
        .fit_transaction_model(ParetoNbdParams::new())
        .fit_spend_model(GammaGammaParams::new())
        .margin(0.3)
        .discount(DiscountRate::per_period(0.10, 365.0)?)
        .horizon(52.0)
        .segmenter("rfm", RfmParams::default())
        .build()?
        .run()?;
    let clvs: Vec<f64> = report
        .customers
        .iter()
        .map(|c| c.clv.to_f64().unwrap_or(0.0))
        .collect();
    let concentration = Concentration::new(&clvs)?;
    let equity = report.equity.to_f64().unwrap_or(0.0);
    let rfm = report
        .by_segment
        .iter()
        .find(|s| s.segmenter == "rfm")
        .ok_or("the report has no rfm segments")?;

    let written = [
        tracking(
            &out.join("tracking.svg"),
            &validation.tracking,
            calibration_end,
        )?,
        p_alive_heat_map(
            &out.join("p_alive_heatmap.svg"),
            &model,
            CALIBRATION_WEEKS as f64,
            max_frequency,
        )?,
        clv_distribution(
            &out.join("clv_distribution.svg"),
            &clvs,
            &concentration,
            report.horizon,
        )?,
        equity_by_segment(&out.join("equity_by_segment.svg"), &rfm.segments, equity)?,
    ];
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// One chart's SVG canvas.
fn canvas(path: &Path) -> DrawingArea<SVGBackend<'_>, Shift> {
    SVGBackend::new(path, (WIDTH, HEIGHT)).into_drawing_area()
}

fn title_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// Thousands separators: 1234567.8 → "1,234,568".
fn thousands(v: f64) -> String {
    let digits = format!("{:.0}", v.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < -0.5 {
        format!("-{out}")
    } else {
        out
    }
}

/// A share for a label: "<1%" rather than a misleading "0%".
fn percent(p: f64) -> String {
    if p > 0.0 && p < 0.5 {
        "<1%".to_string()
    } else {
        format!("{p:.0}%")
    }
}

fn money(v: f64) -> String {
    format!("${}", thousands(v))
}

/// 1. Actual vs expected cumulative repeat transactions, week by week, with the holdout shaded.
fn tracking(path: &Path, points: &[TrackingPoint], calibration_end: NaiveDate) -> Result<PathBuf> {
    let first = points.first().ok_or("empty tracking curve")?;
    // Tracking periods are weeks counted from the first acquisition day.
    let origin = first.end.checked_sub_days(Days::new(6)).ok_or("bad date")?;
    let split = ((calibration_end - origin).num_days() + 1) as f64 / 7.0;
    let weeks = points.len() as f64;
    let top = points
        .iter()
        .map(|p| p.actual_cumulative.max(p.expected_cumulative))
        .fold(0.0, f64::max)
        * 1.08;
    let actual: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            points
                .iter()
                .map(|p| (p.period as f64, p.actual_cumulative)),
        )
        .collect();
    let expected: Vec<(f64, f64)> = std::iter::once((0.0, 0.0))
        .chain(
            points
                .iter()
                .map(|p| (p.period as f64, p.expected_cumulative)),
        )
        .collect();
    let (holdout_actual, holdout_expected) = points
        .iter()
        .filter(|p| p.holdout)
        .fold((0.0, 0.0), |(a, e), p| (a + p.actual, e + p.expected));

    let root = canvas(path);
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Repeat transactions: actual vs Pareto/NBD forecast",
            title_style(26),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..weeks, 0.0..top)?;
    chart.draw_series(std::iter::once(Rectangle::new(
        [(split, 0.0), (weeks, top)],
        SHADE.filled(),
    )))?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_x_mesh()
        .x_desc(format!("weeks since the first acquisition ({origin})"))
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("cumulative repeat transactions")
        .y_label_formatter(&|v| thousands(*v))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 14))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(split, 0.0), (split, top)],
        BLACK.mix(0.5).stroke_width(1),
    ))?;
    chart.draw_series([
        Text::new(
            "calibration (model fitted)".to_string(),
            (split - 1.0, top * 0.97),
            (FONT, 15)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Right, VPos::Top)),
        ),
        Text::new(
            format!(
                "holdout: {} actual vs {} forecast ({:+.1}%)",
                thousands(holdout_actual),
                thousands(holdout_expected),
                100.0 * (holdout_expected - holdout_actual) / holdout_actual.max(1.0)
            ),
            (split + 1.0, top * 0.97),
            (FONT, 15)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Top)),
        ),
    ])?;
    chart
        .draw_series(LineSeries::new(actual, ACTUAL.stroke_width(3)))?
        .label("actual")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], ACTUAL.stroke_width(3)));
    chart
        .draw_series(DashedLineSeries::new(
            expected,
            8,
            5,
            EXPECTED.stroke_width(3),
        ))?
        .label("expected (fitted on calibration)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], EXPECTED.stroke_width(3)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 15))
        .draw()?;
    root.present()?;
    Ok(path.to_path_buf())
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

/// 2. P(alive) now for every frequency x and recency t_x of a customer acquired `age` weeks ago.
fn p_alive_heat_map(
    path: &Path,
    model: &dyn TransactionModel,
    age: f64,
    max_frequency: u32,
) -> Result<PathBuf> {
    let root = canvas(path);
    root.fill(&WHITE)?;
    let (main, legend) = root.split_horizontally(WIDTH - 130);
    let columns = age as u32;
    let mut chart = ChartBuilder::on(&main)
        .caption(
            format!(
                "Probability a customer is still active, {age:.0} weeks after their first purchase"
            ),
            title_style(22),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(
            -0.5..f64::from(columns) + 0.5,
            -0.5..f64::from(max_frequency) + 0.5,
        )?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_mesh()
        .x_desc("recency t_x: week of the last purchase (weeks since the first)")
        .y_desc("frequency x: repeat purchases")
        .x_labels(14)
        .y_labels(max_frequency as usize + 1)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 14))
        .draw()?;
    let mut cells = Vec::new();
    for x in 0..=max_frequency {
        for t in 0..=columns {
            // With no repeat purchase the recency is 0 whatever the column.
            let recency = if x == 0 { 0.0 } else { f64::from(t) };
            let p = model.p_alive(&History::new(x, recency, age), 0.0)?;
            let (cx, cy) = (f64::from(t), f64::from(x));
            cells.push(Rectangle::new(
                [(cx - 0.5, cy - 0.5), (cx + 0.5, cy + 0.5)],
                viridis(p).filled(),
            ));
        }
    }
    chart.draw_series(cells)?;
    chart.draw_series(std::iter::once(Text::new(
        "no repeat purchase yet, so recency does not apply",
        (f64::from(columns) / 2.0, 0.0),
        (FONT, 14)
            .into_font()
            .color(&WHITE)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    )))?;

    // The colour bar.
    legend.draw(&Text::new(
        "P(alive)",
        (55, 30),
        (FONT, 16).into_font().color(&INK),
    ))?;
    let mut bar = ChartBuilder::on(&legend)
        .margin_top(60)
        .margin_bottom(80)
        .margin_right(20)
        .y_label_area_size(60)
        .x_label_area_size(10)
        .build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
    bar.configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
        .label_style((FONT, 14))
        .draw()?;
    bar.draw_series((0..100).map(|i| {
        let lo = f64::from(i) / 100.0;
        Rectangle::new([(0.0, lo), (1.0, lo + 0.01)], viridis(lo + 0.005).filled())
    }))?;
    root.present()?;
    Ok(path.to_path_buf())
}

/// 3. Histogram of CLV (the top 1% pooled in one bar) beside the Lorenz curve of CLV.
fn clv_distribution(
    path: &Path,
    clvs: &[f64],
    concentration: &Concentration,
    horizon: f64,
) -> Result<PathBuf> {
    let mut sorted = clvs.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let p99 = sorted
        .get((n * 99 / 100).min(n.saturating_sub(1)))
        .copied()
        .unwrap_or(1.0)
        .max(1.0);
    const BINS: usize = 30;
    let width = p99 / BINS as f64;
    let mut counts = [0u32; BINS + 1];
    for v in &sorted {
        counts[((v / width).floor().max(0.0) as usize).min(BINS)] += 1;
    }
    let tallest = f64::from(counts.iter().copied().max().unwrap_or(1)) * 1.08;

    let root = canvas(path);
    root.fill(&WHITE)?;
    let root = root.titled(
        &format!(
            "Customer lifetime value over the next {horizon:.0} weeks ({} customers)",
            thousands(n as f64)
        ),
        title_style(24),
    )?;
    let (left, right) = root.split_horizontally(WIDTH * 3 / 5);

    let mut hist = ChartBuilder::on(&left)
        .caption("How CLV is spread", (FONT, 18))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..width * (BINS + 1) as f64, 0.0..tallest)?;
    hist.configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_x_mesh()
        .x_desc("CLV per customer ($)")
        .y_desc("customers")
        .x_label_formatter(&|v| money(*v))
        .y_label_formatter(&|v| thousands(*v))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .draw()?;
    hist.draw_series(counts.iter().enumerate().map(|(i, &c)| {
        let x0 = i as f64 * width;
        let colour = if i == BINS { OVERFLOW } else { BAR };
        Rectangle::new(
            [(x0 + width * 0.06, 0.0), (x0 + width * 0.94, f64::from(c))],
            colour.filled(),
        )
    }))?
    .label(format!("customers per {} band", money(width)))
    .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BAR.filled()));
    // Name the two bars a manager asks about: the crowd near zero and the top 1%.
    let share = |c: u32| 100.0 * f64::from(c) / n.max(1) as f64;
    hist.draw_series([
        Text::new(
            format!(
                "{} customers ({:.0}%) below {}",
                thousands(f64::from(counts[0])),
                share(counts[0]),
                money(width)
            ),
            (width * 1.2, f64::from(counts[0]) * 0.97),
            (FONT, 14).into_font().color(&INK),
        ),
        Text::new(
            format!("{} customers", counts[BINS]),
            (
                width * BINS as f64 + width / 2.0,
                f64::from(counts[BINS]) + tallest * 0.01,
            ),
            (FONT, 13)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        ),
    ])?;
    hist.draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
        .label(format!("top 1%: CLV ≥ {}", money(p99)))
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], OVERFLOW.filled()));
    hist.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()?;

    let gini = concentration.gini();
    let mut lorenz = ChartBuilder::on(&right)
        .caption(format!("Lorenz curve, Gini {gini:.2}"), (FONT, 18))
        .margin(15)
        .x_label_area_size(50)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..100.0, 0.0..100.0)?;
    lorenz
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .x_desc("customers, lowest CLV first (%)")
        .y_desc("share of customer equity (%)")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 13))
        .draw()?;
    let curve: Vec<(f64, f64)> = concentration
        .lorenz_points(400)
        .into_iter()
        .map(|(p, l)| (100.0 * p, 100.0 * l))
        .collect();
    lorenz
        .draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (100.0, 100.0)],
            6,
            4,
            BLACK.mix(0.5).stroke_width(1),
        ))?
        .label("perfect equality")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));
    lorenz
        .draw_series(AreaSeries::new(curve, 0.0, BAR.mix(0.2)).border_style(BAR.stroke_width(3)))?
        .label("Lorenz curve of CLV")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BAR.stroke_width(3)));
    let top10 = concentration.top_share(0.1)?;
    let top20 = concentration.top_share(0.2)?;
    lorenz.draw_series([
        Text::new(
            format!("top 10% hold {:.0}%", 100.0 * top10),
            (5.0, 92.0),
            (FONT, 14).into_font().color(&INK),
        ),
        Text::new(
            format!("top 20% hold {:.0}%", 100.0 * top20),
            (5.0, 85.0),
            (FONT, 14).into_font().color(&INK),
        ),
    ])?;
    lorenz
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleLeft)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font((FONT, 14))
        .draw()?;
    root.present()?;
    Ok(path.to_path_buf())
}

/// 4. Horizontal bars of equity per RFM segment, largest on top, with share and head count.
fn equity_by_segment(path: &Path, segments: &[GroupEquity], equity: f64) -> Result<PathBuf> {
    let mut rows: Vec<(String, usize, f64)> = segments
        .iter()
        .map(|g| {
            (
                g.label.clone(),
                g.customers,
                g.equity.to_f64().unwrap_or(0.0),
            )
        })
        .collect();
    // Smallest first: row 0 is drawn at the bottom.
    rows.sort_by(|a, b| a.2.total_cmp(&b.2));
    let largest = rows.iter().map(|r| r.2).fold(1.0, f64::max);
    let labels: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();

    let root = canvas(path);
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("Customer equity by RFM segment (total {})", money(equity)),
            title_style(24),
        )
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(170)
        .build_cartesian_2d(
            0.0..largest * 1.45,
            (0..rows.len() as i32 - 1).into_segmented(),
        )?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_y_mesh()
        .x_desc("customer equity: sum of CLV over the next 52 weeks ($)")
        .x_label_formatter(&|v| money(*v))
        .y_labels(rows.len())
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .axis_desc_style((FONT, 16))
        .label_style((FONT, 15))
        .draw()?;
    // One series per bar: a Histogram keeps its bars in a hash map, so drawing them one at a
    // time keeps the SVG byte-for-byte reproducible.
    for (i, r) in rows.iter().enumerate() {
        chart.draw_series(
            Histogram::horizontal(&chart)
                .style(BAR.filled())
                .margin(6)
                .data([(i as i32, r.2)]),
        )?;
    }
    chart.draw_series(rows.iter().enumerate().map(|(i, (_, customers, value))| {
        Text::new(
            format!(
                "{}  ({}, {} customers)",
                money(*value),
                percent(100.0 * value / equity.max(1.0)),
                thousands(*customers as f64)
            ),
            (value + largest * 0.01, SegmentValue::CenterOf(i as i32)),
            (FONT, 14)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        )
    }))?;
    root.present()?;
    Ok(path.to_path_buf())
}
