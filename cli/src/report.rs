//! `clv report --transactions FILE.csv --end DATE [--unit weeks] [--model NAME] [--margin M]
//! [--discount R]`: the customer-equity report as JSON.
//!
//! - NAME: bg-nbd (default), mbg-nbd, pareto-nbd or ggom-nbd, fitted on the summaries at `--end`; spend
//!   from a Gamma-Gamma fit on the same summaries.
//! - M: margin as a share of spend, default 1 (revenue). R: the continuous discount rate per
//!   time unit, as for `clv predict` (default: 10% a year, ln(1.1) × unit days / 365.25).
//! - Expected purchases are over 52 weeks (364 days) in the file's unit; segments are RFM and
//!   ABC; KPIs cover the 90 days ending at `--end`.
//! - `--interval LEVEL [--method delta|parametric-bootstrap|bootstrap] [--bootstrap N] [--seed
//!   S]` adds intervals of equity, of each group's equity, of value at risk and of the base's
//!   expected purchases (`intervals`, and `interval` in each group; `interval_note` says why
//!   when they cannot be made).
//! - `--previous-review D` adds `since_last_review`: the equity bridge from D (models fitted at
//!   D, refitted at `--end`; lost below P(alive) 0.5), the biggest migrations between asset
//!   classes and RFM segments, and the ten customers gained and lost with the most value (see
//!   `bridge.rs` and `customer_assets::valuation::review`).
//! - `--consents FILE --purpose P` lists only the customers whose consent to P covers `--end`
//!   (see `consent.rs`); `consent` gives the purpose, the day and the rows kept and left out.
//! - `--referrals FILE` adds referral events to the ledger (see `referral.rs`): each customer's
//!   `referrals` and `referral_value` (the CLV of the customers they brought in the 365 days to
//!   `--end`) beside their CLV, and the totals in `referrals`; equity is unchanged.

use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::ggompertz_nbd::GGompertzNbdParams;
use customer_assets::models::mbg_nbd::MbgNbdParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::models::IntervalMethod;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::bridge::LossRule;
use customer_assets::valuation::review::SinceLastReview;
use customer_assets::valuation::{DiscountRate, IntervalOptions, Valuation, ValuationBuilder};
use customer_assets::TimeUnit;

use crate::bridge::{fit_models, value, At, Settings};
use crate::common::{check_span, echo, Flags};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "transactions",
            "end",
            "unit",
            "model",
            "margin",
            "discount",
            "interval",
            "method",
            "bootstrap",
            "seed",
            "consents",
            "purpose",
            "referrals",
            "previous-review",
        ],
    )?;
    let intervals = interval_options(&flags)?;
    let output = flags.output(false)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let margin = flags.margin()?;
    let rate = flags.discount(unit)?;
    let model = flags.get("model").unwrap_or("bg-nbd");
    if !matches!(model, "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd") {
        return Err(format!(
            "--model: {} is not one of bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd",
            echo(model)
        ));
    }

    let (mut ledger, first) = input.ledger()?;
    check_span("end", end, first, path)?;
    if end < first {
        return Err(format!(
            "--end: {end} is before the first transaction in {path} ({first}); no customer to value"
        ));
    }
    let previous = flags.optional_date("previous-review")?;
    if let Some(previous) = previous {
        if previous >= end {
            return Err(format!(
                "--previous-review: {previous} must come before --end {end}"
            ));
        }
        check_span("previous-review", previous, first, path)?;
        if previous < first {
            return Err(format!(
                "--previous-review: {previous} is before the first transaction in {path} ({first}); no customer to value then"
            ));
        }
    }

    crate::referral::add(&flags, &mut ledger)?;
    let builder: ValuationBuilder<'_> = Valuation::builder()
        .ledger(&ledger)
        .as_of(end)
        .unit(unit)
        .fit_spend_model(GammaGammaParams::new())
        .margin(margin)
        .discount(report_rate(rate, unit)?)
        .horizon(unit.from_days(364.0))
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .kpis(90);
    let builder = match intervals {
        Some(options) => builder.intervals(options),
        None => builder,
    };
    let builder = match model {
        "bg-nbd" => builder.fit_transaction_model(BgNbdParams::new()),
        "mbg-nbd" => builder.fit_transaction_model(MbgNbdParams::new()),
        "ggom-nbd" => builder.fit_transaction_model(GGompertzNbdParams::new()),
        _ => builder.fit_transaction_model(ParetoNbdParams::new()),
    };
    let scope = crate::consent::scope(&flags, end)?;
    crate::progress::stage(format!("valuing the customers of {path} with {model}"));
    let mut report = builder
        .build()
        .map_err(|e| format!("{path}: {e}"))?
        .run()
        .map_err(|e| format!("{path}: valuing at --end {end}: {e}"))?;
    // Before the consent filter: the bridge and the migrations need every customer.
    let since = match previous {
        Some(day) => {
            crate::progress::stage(format!("the bridge from --previous-review {day}"));
            let settings = Settings {
                unit,
                margin,
                rate: report_rate(rate, unit)?,
            };
            let at = At {
                path,
                flag: "previous-review",
                day,
            };
            let (models, _) = fit_models(&ledger, at, unit, model)?;
            let opening = value(&ledger, at, &settings, &models)?;
            let at_end = At {
                path,
                flag: "end",
                day: end,
            };
            let cross = value(&ledger, at_end, &settings, &models)?;
            Some(
                SinceLastReview::new(
                    &opening,
                    &report,
                    Some(&cross),
                    &ledger,
                    LossRule::default(),
                    10,
                )
                .map_err(|e| format!("{path}: since --previous-review {day}: {e}"))?,
            )
        }
        None => None,
    };
    if let Some(scope) = &scope {
        report.retain_consenting(scope);
    }
    crate::progress::stage("writing the report");
    let mut json = serde_json::to_value(&report).map_err(|e| format!("cannot write JSON: {e}"))?;
    if let (Some(since), Some(object)) = (since, json.as_object_mut()) {
        let since = serde_json::to_value(&since).map_err(|e| format!("cannot write JSON: {e}"))?;
        object.insert("since_last_review".into(), since);
    }
    output.write_json(&json)
}

/// The discount rate of `--discount`.
fn report_rate(rate: f64, unit: TimeUnit) -> Result<DiscountRate, String> {
    DiscountRate::continuous(rate, unit).map_err(|e| format!("--discount: {e}"))
}

/// The intervals `--interval LEVEL [--method M] [--bootstrap N] [--seed S]` ask for.
fn interval_options(flags: &Flags) -> Result<Option<IntervalOptions>, String> {
    let level = flags.number_in("interval", 0.5, 0.9999, "a confidence level, e.g. 0.9")?;
    let method = match flags.get("method") {
        None | Some("delta") => IntervalMethod::Delta,
        Some("parametric-bootstrap") => IntervalMethod::ParametricBootstrap,
        Some("bootstrap") => IntervalMethod::Bootstrap,
        Some(other) => {
            return Err(format!(
                "--method: {} is not one of delta, parametric-bootstrap, bootstrap",
                echo(other)
            ))
        }
    };
    let Some(level) = level else {
        if ["method", "bootstrap", "seed"]
            .iter()
            .any(|f| flags.get(f).is_some())
        {
            return Err("--method, --bootstrap and --seed are for --interval LEVEL".into());
        }
        return Ok(None);
    };
    if method == IntervalMethod::Delta
        && (flags.get("bootstrap").is_some() || flags.get("seed").is_some())
    {
        return Err(
            "--bootstrap and --seed are for --method bootstrap or parametric-bootstrap".into(),
        );
    }
    let draws = crate::fit::bootstrap_options(flags, Some(200))?.ok_or("--bootstrap: no draws")?;
    Ok(Some(match method {
        IntervalMethod::Delta => IntervalOptions::delta(level),
        IntervalMethod::ParametricBootstrap => IntervalOptions::parametric_bootstrap(level, draws),
        _ => IntervalOptions::bootstrap(level, draws),
    }))
}
