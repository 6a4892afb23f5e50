//! A loyalty programme, walked through: one member's year with the rules of
//! `examples/loyalty_rules.json`, printed as a readable timeline.
//!
//! ```text
//! cargo run --example loyalty
//! ```
use chrono::NaiveDate;
use customer_assets::loyalty::{Evaluator, MemberRecords, Programme, Redemption, TierLock};
use customer_assets::{CustomerId, Transaction};
use rust_decimal::Decimal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let programme: Programme = serde_json::from_str(include_str!("loyalty_rules.json"))?;
    println!("Programme: {}", programme.name());
    for t in programme.ladder().tiers() {
        println!(
            "  {:<9} from {} of spend in the last 365 days",
            t.name(),
            t.threshold()
        );
    }
    println!("  reviews every quarter; one tier down per review, after 30 days of grace");
    println!("  1 point per dollar (rounded down), tier multipliers, double points 28 Nov–31 Dec,");
    println!(
        "  50 welcome points, 25 for a basket of $75+; points pending 14 days, expire after 365\n"
    );

    let d = |s: &str| s.parse::<NaiveDate>();
    let money = |s: &str| s.parse::<Decimal>();
    let ann = CustomerId::new("ann")?;
    let history = [
        Transaction::purchase(ann.clone(), d("1997-11-02")?, money("40.00")?)?,
        Transaction::purchase(ann.clone(), d("1997-11-30")?, money("90.00")?)?,
        Transaction::purchase(ann.clone(), d("1997-12-20")?, money("200.00")?)?,
        Transaction::refund(ann.clone(), d("1998-01-05")?, money("50.00")?)?,
    ];
    let redemptions = [Redemption {
        customer: ann.clone(),
        date: d("1998-01-20")?,
        points: 300,
    }];
    // Customer service grants Platinum for three months after a delivery went wrong.
    let locks = [TierLock {
        customer: ann.clone(),
        tier: "Platinum".into(),
        from: d("1998-03-01")?,
        until: d("1998-06-01")?,
    }];
    println!("Ann joins on 1997-11-01 and buys $40 (2 Nov), $90 (30 Nov), $200 (20 Dec);");
    println!("she returns $50 on 5 Jan, redeems 300 points on 20 Jan, and is locked in Platinum");
    println!("from 1 Mar to 1 Jun 1998. She buys nothing more.\n");

    let member = MemberRecords::new(&ann, &history)
        .joined(d("1997-11-01")?)
        .redemptions(&redemptions)
        .locks(&locks);
    let evaluator = Evaluator::new(&programme).expiry_horizon(60);
    let replay = evaluator.replay(&member, d("1999-03-01")?)?;
    println!("Timeline:");
    for event in replay.timeline() {
        println!("  {event}");
    }
    println!();
    for as_of in [
        "1997-12-31",
        "1998-01-20",
        "1998-06-30",
        "1998-11-15",
        "1999-03-01",
    ] {
        let r = evaluator.replay(&member, d(as_of)?)?;
        let s = r.status();
        let next = match (&s.next_tier, s.to_next_tier) {
            (Some(t), Some(gap)) => format!("{gap} more for {t}"),
            _ => "top tier".to_string(),
        };
        println!(
            "As of {as_of}: {} since {} | qualifying spend {} ({next}) | next review {}",
            s.tier, s.since, s.qualifying_value, s.next_evaluation
        );
        println!(
            "  points: {} spendable, {} pending, {} expiring within {} days | earned {}, redeemed {}, clawed back {}, expired {}",
            s.points.balance,
            s.points.pending,
            s.points.expiring,
            s.points.horizon_days,
            s.points.earned,
            s.points.redeemed,
            s.points.clawed_back,
            s.points.expired
        );
        if let Some(p) = &s.pending_downgrade {
            println!(
                "  downgrade to {} on {} unless she re-qualifies",
                p.to, p.on
            );
        }
        if let Some(until) = s.locked_until {
            println!("  tier locked until {until}");
        }
    }
    Ok(())
}
