//! `clv bridge --transactions FILE --from D1 --to D2 [--unit weeks] [--model NAME] [--margin M]
//! [--discount R] [--lost-below P | --lost-after-days N] [--same-models]`: how customer equity
//! moved between two review dates, as JSON.
//!
//! - The models (NAME: bg-nbd (default), mbg-nbd, pareto-nbd or ggom-nbd, with Gamma-Gamma spend, or the
//!   population mean spend when Gamma-Gamma cannot be fitted) are fitted on the data to D1 and
//!   again on the data to D2; the closing date is also valued with the D1 models, which splits
//!   the revaluation into the customers' own purchases and the refit. `--same-models` values
//!   both dates with the D1 models (the refit line is then zero).
//! - Lost: customers whose P(alive) at D2 is below P (`--lost-below`, default 0.5), or who have
//!   not bought in the N days to D2 (`--lost-after-days`).
//! - Output: `opening_equity`, `closing_equity`, `lines` (`name`, `amount`, `customers`, in
//!   bridge order; the amounts sum to closing − opening exactly), `by_asset_class`, `by_segment`
//!   (RFM at D2), the rule and whether the models were refitted (see
//!   `customer_assets::valuation::bridge`); `migrations`: the migration matrices from D1 to D2
//!   for the asset class and the RFM segment, with their transition shares and the mix projected
//!   one period ahead (`customer_assets::valuation::Migration`).
//! - `--referrals FILE` (see `referral.rs`) adds referral events: `referrals` gives the closing
//!   report's referral totals.

use chrono::NaiveDate;
use customer_assets::models::gamma_gamma::GammaGammaParams;
use customer_assets::models::{MeanSpendParams, SpendData};
use customer_assets::segment::rfm::RfmParams;
use customer_assets::valuation::bridge::{EquityBridge, LossRule};
use customer_assets::valuation::{
    DiscountRate, EquityReport, Migration, MigrationDimension, Valuation,
};
use customer_assets::{Fit, Ledger, SpendModel, SummaryOptions, TimeUnit, TransactionModel};

use crate::common::{check_span, echo, Flags};
use crate::fit::{fit_transaction, Fitted};

/// The settings every valuation of the bridge shares.
pub(crate) struct Settings {
    pub(crate) unit: TimeUnit,
    pub(crate) margin: f64,
    pub(crate) rate: DiscountRate,
}

/// Runs the subcommand.
pub fn run(args: &[String]) -> Result<(), String> {
    let flags = Flags::parse(
        args,
        &[
            "transactions",
            "from",
            "to",
            "unit",
            "model",
            "margin",
            "discount",
            "lost-below",
            "lost-after-days",
            "same-models",
            "referrals",
        ],
    )?;
    let output = flags.output(false)?;
    let input = flags.input("transactions")?;
    let path = input.path.as_str();
    let (from, to) = (flags.date("from")?, flags.date("to")?);
    if to <= from {
        return Err(format!("--to: {to} must come after --from {from}"));
    }
    let unit = flags.unit(TimeUnit::WEEKS)?;
    let settings = Settings {
        unit,
        margin: flags.margin()?,
        rate: DiscountRate::continuous(flags.discount(unit)?, unit)
            .map_err(|e| format!("--discount: {e}"))?,
    };
    let model = flags.get("model").unwrap_or("bg-nbd");
    if !matches!(model, "bg-nbd" | "mbg-nbd" | "pareto-nbd" | "ggom-nbd") {
        return Err(format!(
            "--model: {} is not one of bg-nbd, mbg-nbd, pareto-nbd, ggom-nbd",
            echo(model)
        ));
    }
    let rule = loss_rule(&flags)?;
    let same_models = match flags.get("same-models") {
        None => false,
        Some("true") => true,
        Some(other) => return Err(format!("--same-models takes no value, not {}", echo(other))),
    };

    let (mut ledger, first) = input.ledger()?;
    check_span("from", from, first, path)?;
    check_span("to", to, first, path)?;
    if from < first {
        return Err(format!(
            "--from: {from} is before the first transaction in {path} ({first}); no customer to value"
        ));
    }
    crate::referral::add(&flags, &mut ledger)?;
    crate::progress::stage(format!("fitting {model} at {from} and at {to}"));
    let at_from = At {
        path,
        flag: "from",
        day: from,
    };
    let at_to = At {
        path,
        flag: "to",
        day: to,
    };
    let (opening_models, opening_customers) = fit_models(&ledger, at_from, unit, model)?;
    let opening = value(&ledger, at_from, &settings, &opening_models)?;
    let (closing, cross) = if same_models {
        (value(&ledger, at_to, &settings, &opening_models)?, None)
    } else {
        let (closing_models, _) = fit_models(&ledger, at_to, unit, model)?;
        (
            value(&ledger, at_to, &settings, &closing_models)?,
            Some(value(&ledger, at_to, &settings, &opening_models)?),
        )
    };
    crate::progress::stage("drawing the bridge");
    let bridge = EquityBridge::new(&opening, &closing, cross.as_ref(), &ledger, rule)
        .map_err(|e| format!("{path}: {e}"))?;
    let mut json = to_json(&bridge)?;
    let mut migrations = Vec::new();
    for dimension in [
        MigrationDimension::AssetClass,
        MigrationDimension::segmenter("rfm"),
    ] {
        let migration = Migration::between(&opening, &closing, dimension)
            .map_err(|e| format!("{path}: {e}"))?;
        let mut m = to_json(&migration)?;
        if let Some(object) = m.as_object_mut() {
            object.insert("transitions".into(), to_json(&migration.transitions())?);
            object.insert("projection".into(), to_json(&migration.projection())?);
        }
        migrations.push(m);
    }
    if let Some(object) = json.as_object_mut() {
        object.insert("model".into(), model.into());
        object.insert("opening_customers".into(), opening_customers.into());
        object.insert("closing_customers".into(), closing.customers.len().into());
        object.insert("migrations".into(), migrations.into());
        if let Some(referrals) = &closing.referrals {
            object.insert("referrals".into(), to_json(referrals)?);
        }
    }
    output.write_json(&json)
}

/// `--lost-below P` (default 0.5) or `--lost-after-days N`.
fn loss_rule(flags: &Flags) -> Result<LossRule, String> {
    let below = flags.number_in("lost-below", 1e-9, 1.0 - 1e-9, "a probability in (0, 1)")?;
    let days = flags.whole_in(
        "lost-after-days",
        1,
        u64::from(u32::MAX),
        "a number of days",
    )?;
    match (below, days) {
        (Some(_), Some(_)) => {
            Err("--lost-below and --lost-after-days are two rules: give one".into())
        }
        (Some(p), None) => Ok(LossRule::PAliveBelow(p)),
        (None, Some(d)) => Ok(LossRule::NoPurchaseFor {
            days: u32::try_from(d).map_err(|_| "--lost-after-days: too many days".to_string())?,
        }),
        (None, None) => Ok(LossRule::default()),
    }
}

/// The fitted models at `as_of`.
pub(crate) struct Models {
    transactions: Fitted,
    spend: Box<dyn SpendModel>,
}

/// A review date, and how messages name it.
#[derive(Clone, Copy)]
pub(crate) struct At<'a> {
    pub(crate) path: &'a str,
    pub(crate) flag: &'static str,
    pub(crate) day: NaiveDate,
}

impl At<'_> {
    /// `path: at --flag day: what`.
    fn error(&self, what: impl std::fmt::Display) -> String {
        format!("{}: at --{} {}: {what}", self.path, self.flag, self.day)
    }
}

/// Fits the transaction model and the spend model (Gamma-Gamma, else the mean spend, with a
/// note) on the summaries at the date; also gives the number of customers summarised.
pub(crate) fn fit_models(
    ledger: &Ledger,
    at: At<'_>,
    unit: TimeUnit,
    model: &str,
) -> Result<(Models, usize), String> {
    let summaries = ledger
        .summarize(SummaryOptions::new(at.day, unit))
        .map_err(|e| at.error(e))?;
    let transactions =
        fit_transaction(model, &summaries.patterns(), 0.0).map_err(|e| at.error(e))?;
    let gamma_gamma = SpendData::usable_from_summaries(&summaries)
        .map_err(|e| e.to_string())
        .and_then(|usable| {
            GammaGammaParams::new()
                .fit(&usable.data)
                .map_err(|e| e.to_string())
        });
    let spend: Box<dyn SpendModel> = match gamma_gamma {
        Ok(gg) => Box::new(gg),
        Err(why) => {
            eprintln!(
                "clv: note: at --{} {}, the population mean spend stands in for Gamma-Gamma: {why}",
                at.flag, at.day
            );
            let data = SpendData::usable_from_summaries(&summaries)
                .map_err(|e| at.error(format!("no spend to value: {e}")))?;
            Box::new(
                MeanSpendParams::new()
                    .fit(&data.data)
                    .map_err(|e| at.error(e))?,
            )
        }
    };
    Ok((
        Models {
            transactions,
            spend,
        },
        summaries.len(),
    ))
}

/// The equity report at the date with these models.
pub(crate) fn value(
    ledger: &Ledger,
    at: At<'_>,
    settings: &Settings,
    models: &Models,
) -> Result<EquityReport, String> {
    let transactions: &dyn TransactionModel = models.transactions.model();
    Valuation::builder()
        .ledger(ledger)
        .as_of(at.day)
        .unit(settings.unit)
        .transaction_model(transactions)
        .spend_model(&*models.spend)
        .margin(settings.margin)
        .discount(settings.rate)
        .horizon(settings.unit.from_days(364.0))
        .segmenter("rfm", RfmParams::default())
        .build()
        .map_err(|e| at.error(e))?
        .run()
        .map_err(|e| at.error(format!("valuing: {e}")))
}

/// A value as JSON.
fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot write JSON: {e}"))
}
