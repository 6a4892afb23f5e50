//! `clv report --transactions FILE.csv --end DATE [--unit weeks] [--model NAME] [--margin M]
//! [--discount R]`: the customer-equity report as JSON.
//!
//! - NAME: bg-nbd (default), mbg-nbd or pareto-nbd, fitted on the summaries at `--end`; spend
//!   from a Gamma-Gamma fit on the same summaries.
//! - M: margin as a share of spend, default 1 (revenue). R: the continuous discount rate per
//!   time unit, as for `clv predict` (default: 10% a year, ln(1.1) × unit days / 365.25).
//! - Expected purchases are over 52 weeks (364 days) in the file's unit; segments are RFM and
//!   ABC; KPIs cover the 90 days ending at `--end`.

use customer_assets::models::bg_nbd::BgNbdParams;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::mbg_nbd::MbgNbdParams;
use customer_assets::models::pareto_nbd::ParetoNbdParams;
use customer_assets::segment::abc::AbcParams;
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::{DiscountRate, Valuation, ValuationBuilder};
use customer_assets::{Ledger, LedgerOptions, TimeUnit};

use crate::common::{finish, stdout, Flags, TransactionLog};

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &["transactions", "end", "unit", "model", "margin", "discount"],
    )?;
    let path = flags.required("transactions")?;
    let end = flags.date("end")?;
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let margin = flags.number("margin")?.unwrap_or(1.0);
    let rate = flags
        .number("discount")?
        .unwrap_or_else(|| 0.10f64.ln_1p() * unit.days() / 365.25);

    let log = TransactionLog::open(path)?;
    let mut ledger = Ledger::new(LedgerOptions::default());
    let mut failure = None;
    log.read(log.body(), 0, |t| {
        if let Err(e) = ledger.add_transaction(t) {
            failure.get_or_insert(e.to_string());
        }
        Ok(())
    })?;
    if let Some(e) = failure {
        return Err(format!("{path}: {e}"));
    }

    let builder: ValuationBuilder<'_> = Valuation::builder()
        .ledger(&ledger)
        .as_of(end)
        .unit(unit)
        .fit_spend_model(GammaGammaParams::new())
        .margin(margin)
        .discount(DiscountRate::continuous(rate, unit).map_err(|e| format!("--discount: {e}"))?)
        .horizon(unit.from_days(364.0))
        .segmenter("rfm", RfmParams::default())
        .segmenter("abc", AbcParams::default())
        .kpis(90);
    let builder = match flags.get("model").unwrap_or("bg-nbd") {
        "bg-nbd" => builder.fit_transaction_model(BgNbdParams::new()),
        "mbg-nbd" => builder.fit_transaction_model(MbgNbdParams::new()),
        "pareto-nbd" => builder.fit_transaction_model(ParetoNbdParams::new()),
        other => {
            return Err(format!(
                "--model: {other:?} is not one of bg-nbd, mbg-nbd, pareto-nbd"
            ))
        }
    };
    let report = builder
        .build()
        .map_err(|e| e.to_string())?
        .run()
        .map_err(|e| e.to_string())?;
    let mut out = stdout();
    serde_json::to_writer_pretty(&mut out, &report)
        .map_err(|e| format!("cannot write JSON: {e}"))?;
    std::io::Write::write_all(&mut out, b"\n").map_err(|e| format!("cannot write output: {e}"))?;
    finish(out)
}
