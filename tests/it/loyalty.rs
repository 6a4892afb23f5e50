//! Loyalty programmes: known-answer scenarios written as the programme's terms, and invariants.

use chrono::NaiveDate;
use customer_assets::loyalty::{
    Bonus, Campaign, DowngradePolicy, Downgrades, EarnRules, Evaluator, LoyaltyError,
    MemberRecords, Metric, PointsError, Programme, QualificationWindow, QualifyingMetric,
    Redemption, Replay, Rounding, Tier, TierChangeReason, TierLadder, TierLock,
};
use customer_assets::{Customer, CustomerId, Transaction, TransactionKind};
use proptest::prelude::*;
use rust_decimal::Decimal;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}
fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}
fn ann() -> &'static CustomerId {
    static ANN: std::sync::LazyLock<CustomerId> =
        std::sync::LazyLock::new(|| CustomerId::new("ann").unwrap());
    &ANN
}
fn buy(date: &str, amount: &str) -> Transaction {
    Transaction::purchase(ann().clone(), day(date), dec(amount)).unwrap()
}
fn refund(date: &str, amount: &str) -> Transaction {
    Transaction::refund(ann().clone(), day(date), dec(amount)).unwrap()
}

/// Member from 0, Silver from 500, Gold from 2,000 (of the ladder's metric).
fn ladder(metric: Metric) -> TierLadder {
    TierLadder::new(
        metric,
        vec![
            Tier::new("Member", dec("0")),
            Tier::new("Silver", dec("500")),
            Tier::new("Gold", dec("2000")),
        ],
    )
    .unwrap()
}

fn programme(window: QualificationWindow, policy: DowngradePolicy, grace_days: u32) -> Programme {
    Programme::new(
        "Test club",
        ladder(Metric::Spend),
        window,
        Downgrades { policy, grace_days },
        EarnRules::default(),
    )
    .unwrap()
}

fn replay(p: &Programme, history: &[Transaction], as_of: &str) -> Replay {
    Evaluator::new(p)
        .replay(&MemberRecords::new(ann(), history), day(as_of))
        .unwrap()
}

fn tier(r: &Replay) -> &str {
    &r.status().tier
}

// ---------------------------------------------------------------------------------------------
// Calendar year: "Spend $500 in a calendar year for Silver, $2,000 for Gold. Upgrades are
// immediate; status is reviewed every January 1 on the year just ended."

#[test]
fn calendar_year_upgrades_at_once_and_rebuckets_on_january_first() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        0,
    );
    let history = [
        buy("2023-03-01", "600"),
        buy("2023-11-01", "1500"),
        buy("2024-05-01", "700"),
    ];
    // Silver at once with $600, Gold at once when the year reaches $2,100.
    let r = replay(&p, &history, "2023-03-01");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().since, day("2023-03-01"));
    assert_eq!(r.status().to_next_tier, Some(dec("1400")));
    assert_eq!(r.status().next_evaluation, day("2024-01-01"));
    let r = replay(&p, &history, "2023-12-31");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().since, day("2023-11-01"));
    assert_eq!(r.status().qualifying_value, dec("2100"));
    assert_eq!(r.status().to_next_tier, None);
    // Jan 1, 2024: 2023 earned Gold, kept. The 2024 counter starts at zero.
    let r = replay(&p, &history, "2024-01-01");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().qualifying_value, dec("0"));
    // Jan 1, 2025: 2024 brought $700 only: re-bucketed to Silver.
    let r = replay(&p, &history, "2025-01-01");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().since, day("2025-01-01"));
    let last = r.timeline().last().unwrap();
    assert_eq!(
        last.reason,
        TierChangeReason::Downgrade {
            policy: DowngradePolicy::Rebucket,
            qualifying_value: dec("700"),
            earned: "Silver".into()
        }
    );
    // Jan 1, 2026: nothing bought in 2025: Member.
    assert_eq!(tier(&replay(&p, &history, "2026-06-30")), "Member");
    let reasons: Vec<String> = r.timeline().iter().map(|e| e.to_string()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:#?}");
}

#[test]
fn one_tier_per_review_steps_down_a_tier_a_year() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::OneTier,
        0,
    );
    let history = [buy("2023-02-01", "2500")];
    assert_eq!(tier(&replay(&p, &history, "2024-01-01")), "Gold");
    // 2024: nothing bought. One step down on Jan 1, 2025, another on Jan 1, 2026.
    assert_eq!(tier(&replay(&p, &history, "2025-01-01")), "Silver");
    assert_eq!(tier(&replay(&p, &history, "2025-12-31")), "Silver");
    assert_eq!(tier(&replay(&p, &history, "2026-01-01")), "Member");
}

#[test]
fn never_downgrade_keeps_the_highest_tier_reached() {
    let p = programme(QualificationWindow::CalendarYear, DowngradePolicy::Never, 0);
    let history = [buy("2023-02-01", "2500")];
    let r = replay(&p, &history, "2030-06-01");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().since, day("2023-02-01"));
}

// "A member who no longer qualifies keeps the tier for 90 days after the review; reaching the
// tier's threshold in that time keeps it."
#[test]
fn grace_period_postpones_the_downgrade_and_requalifying_cancels_it() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        90,
    );
    let lapsed = [buy("2023-02-01", "2500"), buy("2024-03-01", "100")];
    let r = replay(&p, &lapsed, "2024-01-01");
    assert_eq!(tier(&r), "Gold");
    let r = replay(&p, &lapsed, "2025-01-01");
    assert_eq!(tier(&r), "Gold");
    let pending = r.status().pending_downgrade.clone().unwrap();
    assert_eq!((pending.on, &*pending.to), (day("2025-04-01"), "Member"));
    assert_eq!(tier(&replay(&p, &lapsed, "2025-03-31")), "Gold");
    let r = replay(&p, &lapsed, "2025-04-01");
    assert_eq!(tier(&r), "Member");
    assert_eq!(
        r.timeline().last().unwrap().reason,
        TierChangeReason::GraceExpired
    );

    // Same member, but $2,000 spent on March 15 2025, inside the grace period: keeps Gold.
    let mut saved = lapsed.to_vec();
    saved.push(buy("2025-03-15", "2000"));
    let r = replay(&p, &saved, "2025-06-01");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().pending_downgrade, None);
    assert!(matches!(
        r.timeline().last().unwrap().reason,
        TierChangeReason::Requalified { .. }
    ));
    // Gold since the 2023 upgrade: a grace that ends in re-qualification is no tier change.
    assert_eq!(r.status().since, day("2023-02-01"));
}

// "Status is based on your spend over the last 365 days and reviewed every quarter."
#[test]
fn rolling_window_drops_old_purchases_at_quarterly_reviews() {
    let w = QualificationWindow::Rolling {
        days: 365,
        review_every_months: 3,
    };
    let p = programme(w, DowngradePolicy::Rebucket, 0);
    let history = [buy("2023-05-10", "1500"), buy("2023-08-20", "600")];
    let r = replay(&p, &history, "2023-08-20");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().next_evaluation, day("2023-10-01"));
    // The 1,500 leaves the window after 2024-05-09; the review of 2024-07-01 sees only 600.
    let r = replay(&p, &history, "2024-04-01");
    assert_eq!(tier(&r), "Gold");
    assert_eq!(r.status().qualifying_value, dec("2100"));
    let r = replay(&p, &history, "2024-05-10");
    assert_eq!(tier(&r), "Gold", "no downgrade between reviews");
    assert_eq!(r.status().qualifying_value, dec("600"));
    let r = replay(&p, &history, "2024-07-01");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().since, day("2024-07-01"));
    // The 600 leaves after 2024-08-19: the review of 2024-10-01 sends her to Member.
    assert_eq!(tier(&replay(&p, &history, "2024-10-01")), "Member");
}

#[test]
fn rolling_window_counts_exactly_n_days_at_a_review() {
    // A 10-day window reviewed monthly: at the review of Feb 1 the window is Jan 22..=Jan 31.
    let w = QualificationWindow::Rolling {
        days: 10,
        review_every_months: 1,
    };
    let p = programme(w, DowngradePolicy::Rebucket, 0);
    let kept = [buy("2024-01-22", "600")];
    assert_eq!(tier(&replay(&p, &kept, "2024-02-01")), "Silver");
    let lost = [buy("2024-01-21", "600")];
    assert_eq!(tier(&replay(&p, &lost, "2024-02-01")), "Member");
}

// "Your membership year runs from the day you joined; status is reviewed on its anniversary."
#[test]
fn membership_anniversary_reviews_on_the_joining_date() {
    let p = programme(
        QualificationWindow::MembershipAnniversary,
        DowngradePolicy::Rebucket,
        0,
    );
    let history = [buy("2024-07-01", "800"), buy("2025-07-01", "100")];
    let member = MemberRecords::new(ann(), &history).joined(day("2024-06-15"));
    let ev = Evaluator::new(&p);
    let r = ev.replay(&member, day("2025-06-14")).unwrap();
    assert_eq!(&*r.status().tier, "Silver");
    assert_eq!(r.status().next_evaluation, day("2025-06-15"));
    // The first membership year (to 2025-06-14) brought 800: Silver kept on 2025-06-15.
    let r = ev.replay(&member, day("2026-06-14")).unwrap();
    assert_eq!(&*r.status().tier, "Silver");
    assert_eq!(r.status().qualifying_value, dec("100"));
    let r = ev.replay(&member, day("2026-06-15")).unwrap();
    assert_eq!(&*r.status().tier, "Member");
}

// "Keep your tier by re-qualifying within a year of reaching it."
#[test]
fn tier_anniversary_counts_only_what_was_bought_after_the_upgrade() {
    let p = programme(
        QualificationWindow::TierAnniversary,
        DowngradePolicy::Rebucket,
        0,
    );
    let history = [
        buy("2024-03-01", "300"),
        buy("2024-05-10", "300"), // Silver with 600; the new tier year starts here
        buy("2024-09-01", "450"),
    ];
    let r = replay(&p, &history, "2024-12-31");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().since, day("2024-05-10"));
    assert_eq!(r.status().qualifying_value, dec("450"));
    assert_eq!(r.status().next_evaluation, day("2025-05-10"));
    // 450 < 500 in the tier year: back to Member on 2025-05-10.
    let r = replay(&p, &history, "2025-05-10");
    assert_eq!(tier(&r), "Member");
    let mut more = history.to_vec();
    more.push(buy("2025-01-15", "60"));
    let r = replay(&p, &more, "2025-05-10");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().next_evaluation, day("2026-05-10"));
}

// ---------------------------------------------------------------------------------------------
// Returns and windows: "a refund takes back what its purchase brought, in the qualification
// period that purchase counts in".

/// The case proptest found (tests/proptest-regressions/loyalty.txt): a points ladder on the
/// tier anniversary, downgrades never. An extra purchase of 1,356 on the joining day brings
/// Silver at once and restarts the tier year without counting it; the return of 530 two days
/// later is netted against that purchase, so it must not count against the new tier year either.
/// It used to (the year started at −530), and the member with the extra purchase was Silver on
/// 2023-04-11 while the member without it was Gold.
#[test]
fn the_return_of_a_purchase_before_a_tier_anniversary_upgrade_does_not_count_in_the_new_year() {
    let rules = EarnRules {
        tier_multipliers: [("Gold".to_string(), dec("1"))].into_iter().collect(),
        pending_days: 7,
        ..EarnRules::default()
    };
    let p = Programme::new(
        "prop",
        ladder(Metric::PointsEarned),
        QualificationWindow::TierAnniversary,
        Downgrades {
            policy: DowngradePolicy::Never,
            grace_days: 0,
        },
        rules,
    )
    .unwrap();
    let history = to_transactions(&[
        (99, 477, false),
        (38, 529, false),
        (38, 782, false),
        (2, 530, true),
        (100, 1, false),
        (38, 740, false),
    ]);
    let mut more = history.clone();
    more.push(buy("2023-01-01", "1356"));
    let ev = Evaluator::new(&p);
    let as_of = day("2023-04-11");
    let without = ev
        .replay(
            &MemberRecords::new(ann(), &history).joined(day("2023-01-01")),
            as_of,
        )
        .unwrap();
    let with = ev
        .replay(
            &MemberRecords::new(ann(), &more).joined(day("2023-01-01")),
            as_of,
        )
        .unwrap();
    // Without: the return precedes every purchase and takes nothing back. Silver with 529 on
    // 2023-02-08 (the tier year restarts), Gold when 740 + 782 + 477 + 1 reaches 2,000.
    assert_eq!(without.tier_on(day("2023-02-08")), Some(1));
    assert_eq!(tier(&without), "Gold");
    assert_eq!(without.status().since, day("2023-04-11"));
    // With: Silver on the first day; the tier year starts at 0, and 529 + 740 + 782 = 2,051
    // brings Gold on 2023-02-08.
    assert_eq!(with.tier_on(day("2023-01-03")), Some(1));
    assert_eq!(with.status().since, day("2023-02-08"));
    assert_eq!(tier(&with), "Gold");
    assert_eq!(with.status().qualifying_value, dec("478"));
    // The points themselves are clawed back all the same.
    assert_eq!(with.status().points.clawed_back, 530);
    let mut d = day("2023-01-01");
    while d <= as_of {
        assert!(with.tier_on(d) >= without.tier_on(d), "on {d}");
        d = d.succ_opt().unwrap();
    }
}

// "Keep your tier by re-qualifying within a year of reaching it", with spend.
#[test]
fn returning_the_purchase_that_brought_a_tier_leaves_the_new_tier_year_at_zero() {
    let p = programme(
        QualificationWindow::TierAnniversary,
        DowngradePolicy::Rebucket,
        0,
    );
    let history = [
        buy("2024-03-01", "600"),
        refund("2024-03-03", "600"),
        buy("2024-09-01", "500"),
    ];
    let r = replay(&p, &history, "2024-03-03");
    // A tier reached is kept until the review; the tier year did not count the 600, nor does it
    // count its refund.
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().qualifying_value, dec("0"));
    // The 500 bought within the tier year keeps Silver at the review.
    let r = replay(&p, &history, "2025-03-01");
    assert_eq!(tier(&r), "Silver");
    assert_eq!(r.status().qualifying_value, dec("0"));
}

// "Points earned over the last 20 days": a return takes back the points of its purchase, and
// leaves the window with that purchase.
#[test]
fn in_a_rolling_window_a_claw_back_leaves_with_its_purchase() {
    let p = Programme::new(
        "rolling points",
        ladder(Metric::PointsEarned),
        QualificationWindow::Rolling {
            days: 20,
            review_every_months: 12,
        },
        Downgrades {
            policy: DowngradePolicy::Never,
            grace_days: 0,
        },
        EarnRules::default(),
    )
    .unwrap();
    let without = [refund("2023-01-26", "100"), buy("2023-02-10", "500")];
    let mut with = without.to_vec();
    with.push(buy("2023-01-11", "100"));
    let member = |h| MemberRecords::new(ann(), h).joined(day("2023-01-01"));
    let ev = Evaluator::new(&p);
    let r = ev.replay(&member(&with), day("2023-01-26")).unwrap();
    assert_eq!(r.status().qualifying_value, dec("0"));
    assert_eq!(r.status().points.clawed_back, 100);
    // The 100 points and their claw-back both left the window after 2023-01-30.
    let r = ev.replay(&member(&with), day("2023-02-10")).unwrap();
    assert_eq!(r.status().qualifying_value, dec("500"));
    assert_eq!(tier(&r), "Silver");
    let r = ev.replay(&member(&without), day("2023-02-10")).unwrap();
    assert_eq!(tier(&r), "Silver");
}

// "Spend (or earn) $500 in a calendar year for Silver": a January refund of a December
// purchase takes it out of the year it counted in, which is closed; the new year is untouched.
#[test]
fn a_refund_of_last_years_purchase_does_not_lower_the_new_year() {
    for metric in [Metric::Spend, Metric::PointsEarned] {
        let p = Programme::new(
            "calendar",
            ladder(metric.clone()),
            QualificationWindow::CalendarYear,
            Downgrades::default(),
            EarnRules::default(),
        )
        .unwrap();
        let history = [
            buy("2023-12-20", "400"),
            refund("2024-01-05", "400"),
            buy("2024-03-01", "500"),
        ];
        let r = replay(&p, &history, "2024-01-05");
        assert_eq!(r.status().qualifying_value, dec("0"), "{metric:?}");
        assert_eq!(r.status().points.balance, 0, "{metric:?}");
        let r = replay(&p, &history, "2024-03-01");
        assert_eq!(tier(&r), "Silver", "{metric:?}");
        assert_eq!(r.status().qualifying_value, dec("500"), "{metric:?}");
    }
    // A return with no purchase in the records to net against counts on its own date (spend).
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        0,
    );
    let r = replay(
        &p,
        &[refund("2024-01-05", "400"), buy("2024-03-01", "500")],
        "2024-03-01",
    );
    assert_eq!(r.status().qualifying_value, dec("100"));
}

// "A tier granted by customer service holds until the stated date, whatever the spend."
#[test]
fn a_lock_beats_the_rules_until_it_ends() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        0,
    );
    let locks = [TierLock {
        customer: ann().clone(),
        tier: "Gold".into(),
        from: day("2023-09-01"),
        until: day("2024-03-01"),
    }];
    let history = [buy("2023-06-01", "50")];
    let member = MemberRecords::new(ann(), &history).locks(&locks);
    let ev = Evaluator::new(&p);
    assert_eq!(
        &*ev.replay(&member, day("2023-08-31")).unwrap().status().tier,
        "Member"
    );
    let r = ev.replay(&member, day("2024-01-01")).unwrap();
    assert_eq!(
        &*r.status().tier,
        "Gold",
        "the Jan 1 review is skipped while locked"
    );
    assert_eq!(r.status().locked_until, Some(day("2024-03-01")));
    // After the lock, Gold is kept until the next review, then the rules apply again.
    let r = ev.replay(&member, day("2024-12-31")).unwrap();
    assert_eq!(&*r.status().tier, "Gold");
    assert_eq!(r.status().locked_until, None);
    assert_eq!(
        &*ev.replay(&member, day("2025-01-01")).unwrap().status().tier,
        "Member"
    );

    // A lock on Silver also holds a big spender down; the upgrade comes when the lock ends.
    let locks = [TierLock {
        customer: ann().clone(),
        tier: "Silver".into(),
        from: day("2024-01-01"),
        until: day("2024-06-01"),
    }];
    let history = [buy("2024-02-01", "3000")];
    let member = MemberRecords::new(ann(), &history)
        .joined(day("2024-01-01"))
        .locks(&locks);
    assert_eq!(
        &*ev.replay(&member, day("2024-05-31")).unwrap().status().tier,
        "Silver"
    );
    let r = ev.replay(&member, day("2024-06-01")).unwrap();
    assert_eq!(&*r.status().tier, "Gold");
    assert_eq!(r.status().since, day("2024-06-01"));
}

#[test]
fn bad_locks_and_foreign_records_are_typed_errors() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        0,
    );
    let ev = Evaluator::new(&p);
    let history = [buy("2024-02-01", "10")];
    let lock = |tier: &str, from: &str, until: &str| TierLock {
        customer: ann().clone(),
        tier: tier.into(),
        from: day(from),
        until: day(until),
    };
    let unknown = [lock("Platinum", "2024-03-01", "2024-04-01")];
    let err = ev
        .replay(
            &MemberRecords::new(ann(), &history).locks(&unknown),
            day("2024-05-01"),
        )
        .unwrap_err();
    assert!(matches!(err, LoyaltyError::UnknownLockTier { .. }), "{err}");
    let overlap = [
        lock("Gold", "2024-03-01", "2024-05-01"),
        lock("Silver", "2024-04-01", "2024-06-01"),
    ];
    let err = ev
        .replay(
            &MemberRecords::new(ann(), &overlap_history()).locks(&overlap),
            day("2024-07-01"),
        )
        .unwrap_err();
    assert!(
        matches!(err, LoyaltyError::OverlappingLocks { .. }),
        "{err}"
    );
    let empty = [lock("Gold", "2024-03-01", "2024-03-01")];
    let err = ev
        .replay(
            &MemberRecords::new(ann(), &history).locks(&empty),
            day("2024-07-01"),
        )
        .unwrap_err();
    assert!(matches!(err, LoyaltyError::EmptyLock { .. }), "{err}");
    let bob = [Transaction::purchase(CustomerId::from(7u64), day("2024-02-01"), dec("5")).unwrap()];
    let err = ev
        .replay(&MemberRecords::new(ann(), &bob), day("2024-07-01"))
        .unwrap_err();
    assert!(matches!(err, LoyaltyError::ForeignRecord { .. }), "{err}");
    let early = MemberRecords::new(ann(), &history).joined(day("2024-03-01"));
    let err = ev.replay(&early, day("2024-07-01")).unwrap_err();
    assert!(
        matches!(err, LoyaltyError::BeforeMembership { .. }),
        "{err}"
    );
    let err = ev
        .replay(&MemberRecords::new(ann(), &history), day("2024-01-01"))
        .unwrap_err();
    assert!(matches!(err, LoyaltyError::NotYetMember { .. }), "{err}");
}

fn overlap_history() -> Vec<Transaction> {
    vec![buy("2024-01-05", "10")]
}

// ---------------------------------------------------------------------------------------------
// Points.

fn points_programme(rules: EarnRules) -> Programme {
    Programme::new(
        "Points club",
        ladder(Metric::Spend),
        QualificationWindow::CalendarYear,
        Downgrades::default(),
        rules,
    )
    .unwrap()
}

// "Points expire 365 days after they are earned."
#[test]
fn points_expire_365_days_after_they_are_earned() {
    let p = points_programme(EarnRules {
        expiry_days: Some(365),
        ..EarnRules::default()
    });
    let history = [buy("2024-01-10", "100.90"), buy("2024-06-01", "40")];
    let ev = Evaluator::new(&p).expiry_horizon(30);
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2024-12-20"))
        .unwrap();
    assert_eq!(
        r.status().points.balance,
        140,
        "100.90 earns 100 points: rounded down"
    );
    assert_eq!(r.status().points.expiring, 100);
    // 2024 is a leap year: 365 days after 2024-01-10 is 2025-01-09, the day they are gone.
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2025-01-08"))
        .unwrap();
    assert_eq!(r.status().points.balance, 140);
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2025-01-09"))
        .unwrap();
    assert_eq!(r.status().points.balance, 40);
    assert_eq!(r.status().points.expired, 100);
}

// "Returned purchases lose their points. A fully returned order loses its bonus."
#[test]
fn returns_claw_points_back_and_never_push_the_balance_below_zero() {
    let p = points_programme(EarnRules {
        bonuses: vec![Bonus {
            name: "big basket".into(),
            points: 25,
            min_amount: Some(dec("150")),
            first_purchase_only: false,
            from: None,
            until: None,
        }],
        ..EarnRules::default()
    });
    let ev = Evaluator::new(&p);
    let history = [buy("2024-02-01", "200"), refund("2024-02-05", "50")];
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2024-02-28"))
        .unwrap();
    assert_eq!(r.status().points.balance, 225 - 50);
    assert_eq!(r.status().qualifying_value, dec("150"));
    let mut full = history.to_vec();
    full.push(refund("2024-02-06", "150"));
    let r = ev
        .replay(&MemberRecords::new(ann(), &full), day("2024-02-28"))
        .unwrap();
    assert_eq!(r.status().points.balance, 0);
    assert_eq!(r.status().points.clawed_back, 225);
    // Points already redeemed: the claw-back is written off, the balance stays at zero.
    let spent = [Redemption {
        customer: ann().clone(),
        date: day("2024-02-03"),
        points: 200,
    }];
    let r = ev
        .replay(
            &MemberRecords::new(ann(), &full).redemptions(&spent),
            day("2024-02-28"),
        )
        .unwrap();
    assert_eq!(r.status().points.balance, 0);
    assert_eq!(r.status().points.shortfall, 200);
}

// "Double points in March. Gold members earn 1.5 points per dollar."
#[test]
fn campaign_and_tier_multipliers_multiply() {
    let p = points_programme(EarnRules {
        tier_multipliers: [("Gold".to_string(), dec("1.5"))].into_iter().collect(),
        campaigns: vec![Campaign {
            name: "double March".into(),
            from: day("2024-03-01"),
            until: day("2024-03-31"),
            multiplier: dec("2"),
        }],
        rounding: Rounding::HalfUp,
        ..EarnRules::default()
    });
    let ev = Evaluator::new(&p);
    let history = [
        buy("2024-02-01", "2000"),  // 2000 points at 1x; Gold from now on
        buy("2024-02-10", "10.33"), // 15.495 -> 15
        buy("2024-03-05", "10.50"), // 31.5 -> 32 (half up)
        buy("2024-04-01", "10"),    // 15
    ];
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2024-04-30"))
        .unwrap();
    assert_eq!(r.status().points.balance, 2000 + 15 + 32 + 15);
}

// "Points can be used 14 days after the purchase."
#[test]
fn pending_points_cannot_be_redeemed_and_overdrafts_are_typed_errors() {
    let p = points_programme(EarnRules {
        pending_days: 14,
        expiry_days: Some(365),
        ..EarnRules::default()
    });
    let ev = Evaluator::new(&p);
    let history = [buy("2024-02-01", "300")];
    let r = ev
        .replay(&MemberRecords::new(ann(), &history), day("2024-02-14"))
        .unwrap();
    assert_eq!(
        (r.status().points.balance, r.status().points.pending),
        (0, 300)
    );
    let early = [Redemption {
        customer: ann().clone(),
        date: day("2024-02-10"),
        points: 100,
    }];
    let err = ev
        .replay(
            &MemberRecords::new(ann(), &history).redemptions(&early),
            day("2024-03-01"),
        )
        .unwrap_err();
    assert_eq!(
        err,
        LoyaltyError::Points(PointsError::InsufficientPoints {
            customer: ann().clone(),
            date: day("2024-02-10"),
            requested: 100,
            available: 0
        })
    );
    let ok = [Redemption {
        customer: ann().clone(),
        date: day("2024-02-15"),
        points: 100,
    }];
    let r = ev
        .replay(
            &MemberRecords::new(ann(), &history).redemptions(&ok),
            day("2024-03-01"),
        )
        .unwrap();
    assert_eq!(r.status().points.balance, 200);
    let greedy = [Redemption {
        customer: ann().clone(),
        date: day("2024-02-15"),
        points: 301,
    }];
    assert!(ev
        .replay(
            &MemberRecords::new(ann(), &history).redemptions(&greedy),
            day("2024-03-01")
        )
        .is_err());
}

#[test]
fn points_earned_and_orders_ladders() {
    // "Earn 500 points in a year for Silver" with a welcome bonus of 100.
    let rules = EarnRules {
        bonuses: vec![Bonus {
            name: "welcome".into(),
            points: 100,
            min_amount: None,
            first_purchase_only: true,
            from: None,
            until: None,
        }],
        ..EarnRules::default()
    };
    let p = Programme::new(
        "points ladder",
        ladder(Metric::PointsEarned),
        QualificationWindow::CalendarYear,
        Downgrades::default(),
        rules,
    )
    .unwrap();
    let history = [buy("2024-01-02", "150"), buy("2024-01-03", "250")];
    assert_eq!(tier(&replay(&p, &history, "2024-01-02")), "Member");
    let r = replay(&p, &history, "2024-01-03");
    assert_eq!(
        (tier(&r), r.status().qualifying_value),
        ("Silver", dec("500"))
    );

    let orders = TierLadder::new(
        Metric::Orders,
        vec![Tier::new("New", dec("0")), Tier::new("Regular", dec("3"))],
    )
    .unwrap();
    let p = Programme::new(
        "orders",
        orders,
        QualificationWindow::CalendarYear,
        Downgrades::default(),
        EarnRules::default(),
    )
    .unwrap();
    let history = [
        buy("2024-01-02", "1"),
        buy("2024-01-02", "1"),
        refund("2024-01-03", "1"),
        buy("2024-01-04", "1"),
    ];
    let r = replay(&p, &history, "2024-01-04");
    assert_eq!(
        (tier(&r), r.status().qualifying_value),
        ("Regular", dec("3"))
    );
}

struct Items;
impl QualifyingMetric for Items {
    fn name(&self) -> &str {
        "items"
    }
    fn contribution(&self, t: &Transaction) -> Decimal {
        let n = Decimal::from(t.quantity().unwrap_or(1));
        match t.kind() {
            TransactionKind::Purchase => n,
            TransactionKind::Return => -n,
        }
    }
}

#[test]
fn custom_metric_counts_items() {
    let l = TierLadder::new(
        Metric::Custom("items".into()),
        vec![
            Tier::new("Browser", dec("0")),
            Tier::new("Collector", dec("10")),
        ],
    )
    .unwrap();
    let p = Programme::new(
        "items",
        l,
        QualificationWindow::CalendarYear,
        Downgrades::default(),
        EarnRules::default(),
    )
    .unwrap();
    let history = [buy("2024-01-02", "30").with_quantity(12).unwrap()];
    let err = Evaluator::new(&p)
        .replay(&MemberRecords::new(ann(), &history), day("2024-02-01"))
        .unwrap_err();
    assert_eq!(err, LoyaltyError::MissingCustomMetric("items".into()));
    let r = Evaluator::new(&p)
        .custom_metric(&Items)
        .replay(&MemberRecords::new(ann(), &history), day("2024-02-01"))
        .unwrap();
    assert_eq!(&*r.status().tier, "Collector");
}

#[test]
fn batch_evaluation_covers_customers_and_transaction_only_members() {
    let p = programme(
        QualificationWindow::CalendarYear,
        DowngradePolicy::Rebucket,
        0,
    );
    let bob = CustomerId::from(2u64);
    let cat = CustomerId::from(3u64);
    let customers = [
        Customer::new(bob.clone(), day("2024-01-01")),
        Customer::new(CustomerId::from(9u64), day("2025-01-01")), // joins after the as-of date
    ];
    let txns = [
        buy("2024-03-01", "700"),
        Transaction::purchase(cat.clone(), day("2024-02-01"), dec("2500")).unwrap(),
        Transaction::purchase(bob.clone(), day("2024-04-01"), dec("20")).unwrap(),
    ];
    let out = Evaluator::new(&p)
        .evaluate_base(&customers, &txns, &[], &[], day("2024-06-30"))
        .unwrap();
    let rows: Vec<(String, String)> = out
        .iter()
        .map(|r| (r.status().customer.to_string(), r.status().tier.to_string()))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2".into(), "Member".into()),
            ("ann".into(), "Silver".into()),
            ("3".into(), "Gold".into())
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Invariants.

fn any_programme() -> impl Strategy<Value = Programme> {
    let window = prop_oneof![
        Just(QualificationWindow::CalendarYear),
        Just(QualificationWindow::MembershipAnniversary),
        Just(QualificationWindow::TierAnniversary),
        (20u32..400, prop_oneof![Just(1u32), Just(3), Just(12)]).prop_map(|(days, m)| {
            QualificationWindow::Rolling {
                days,
                review_every_months: m,
            }
        }),
    ];
    let policy = prop_oneof![
        Just(DowngradePolicy::Never),
        Just(DowngradePolicy::OneTier),
        Just(DowngradePolicy::Rebucket)
    ];
    let metric = prop_oneof![
        Just(Metric::Spend),
        Just(Metric::PointsEarned),
        Just(Metric::Orders)
    ];
    (
        window,
        policy,
        0u32..60,
        metric,
        1u32..3,
        prop::option::of(30u32..400),
    )
        .prop_map(|(window, policy, grace_days, metric, mult, expiry)| {
            let scale = if metric == Metric::Orders {
                dec("0.01")
            } else {
                dec("1")
            };
            let l = TierLadder::new(
                metric,
                vec![
                    Tier::new("Member", dec("0")),
                    Tier::new("Silver", dec("500") * scale),
                    Tier::new("Gold", dec("2000") * scale),
                ],
            )
            .unwrap();
            let rules = EarnRules {
                tier_multipliers: [("Gold".to_string(), Decimal::from(mult))]
                    .into_iter()
                    .collect(),
                expiry_days: expiry,
                pending_days: 7,
                ..EarnRules::default()
            };
            Programme::new("prop", l, window, Downgrades { policy, grace_days }, rules).unwrap()
        })
}

/// Programmes whose windows do not depend on the member's history (a tier anniversary becomes a
/// calendar year) and whose tiers are never lowered.
fn fixed_periods_never_downgrade() -> impl Strategy<Value = Programme> {
    any_programme().prop_map(|p| {
        let window = match p.window() {
            QualificationWindow::TierAnniversary => QualificationWindow::CalendarYear,
            w => w,
        };
        let downgrades = Downgrades {
            policy: DowngradePolicy::Never,
            ..p.downgrades()
        };
        Programme::new(
            p.name(),
            p.ladder().clone(),
            window,
            downgrades,
            p.points().clone(),
        )
        .unwrap()
    })
}

/// (day offset from 2023-01-01, amount in dollars, is a return)
fn any_history() -> impl Strategy<Value = Vec<(u32, u32, bool)>> {
    prop::collection::vec((0u32..900, 1u32..1500, prop::bool::weighted(0.15)), 0..25)
}

fn to_transactions(h: &[(u32, u32, bool)]) -> Vec<Transaction> {
    let start = day("2023-01-01");
    h.iter()
        .map(|&(d, a, ret)| {
            let date = start + chrono::Days::new(u64::from(d));
            if ret {
                Transaction::refund(ann().clone(), date, Decimal::from(a)).unwrap()
            } else {
                Transaction::purchase(ann().clone(), date, Decimal::from(a)).unwrap()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(crate::proptest_config(96))]

    #[test]
    fn replay_does_not_depend_on_input_order(
        p in any_programme(), h in any_history(), seed in any::<u64>()
    ) {
        let txns = to_transactions(&h);
        let mut shuffled = txns.clone();
        // A seeded Fisher-Yates shuffle.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let member = MemberRecords::new(ann(), &txns).joined(day("2023-01-01"));
        let a = Evaluator::new(&p).replay(&member, day("2025-12-31")).unwrap();
        let member = MemberRecords::new(ann(), &shuffled).joined(day("2023-01-01"));
        let b = Evaluator::new(&p).replay(&member, day("2025-12-31")).unwrap();
        prop_assert_eq!(a.timeline(), b.timeline());
        prop_assert_eq!(a.status(), b.status());
    }

    #[test]
    fn adding_a_purchase_never_lowers_the_tier_before_the_next_review(
        p in any_programme(), h in any_history(), extra_day in 0u32..900, extra in 1u32..3000
    ) {
        let txns = to_transactions(&h);
        let start = day("2023-01-01");
        let when = start + chrono::Days::new(u64::from(extra_day));
        let before = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &txns).joined(start), when)
            .unwrap();
        let next_review = before.status().next_evaluation;
        let end = next_review.pred_opt().unwrap();
        let mut more = txns.clone();
        more.push(Transaction::purchase(ann().clone(), when, Decimal::from(extra)).unwrap());
        let without = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &txns).joined(start), end)
            .unwrap();
        let with = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &more).joined(start), end)
            .unwrap();
        let mut d = when;
        while d <= end {
            prop_assert!(with.tier_on(d) >= without.tier_on(d), "on {}", d);
            d = d.succ_opt().unwrap();
        }
    }

    /// With downgrades `Never` and a window whose periods do not depend on the member's history
    /// (every window but the tier anniversary, whose year starts at each tier change), an extra
    /// purchase never lowers the tier on any later day, across reviews too.
    #[test]
    fn with_fixed_periods_and_no_downgrades_an_extra_purchase_never_lowers_the_tier(
        p in fixed_periods_never_downgrade(),
        h in any_history(), extra_day in 0u32..900, extra in 1u32..3000
    ) {
        let txns = to_transactions(&h);
        let start = day("2023-01-01");
        let when = start + chrono::Days::new(u64::from(extra_day));
        let end = day("2025-12-31");
        let mut more = txns.clone();
        more.push(Transaction::purchase(ann().clone(), when, Decimal::from(extra)).unwrap());
        let without = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &txns).joined(start), end)
            .unwrap();
        let with = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &more).joined(start), end)
            .unwrap();
        let mut d = when;
        while d <= end {
            prop_assert!(with.tier_on(d) >= without.tier_on(d), "on {}", d);
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn the_points_balance_is_never_negative_and_adds_up(
        p in any_programme(), h in any_history(), asks in prop::collection::vec((0u32..900, 1u64..800), 0..8)
    ) {
        let txns = to_transactions(&h);
        let start = day("2023-01-01");
        // Keep only the redemptions the balance allows, so the history replays; the others are
        // typed errors (checked below on the first one).
        let mut granted: Vec<Redemption> = Vec::new();
        let mut asks = asks;
        asks.sort();
        for (d, pts) in asks {
            let date = start + chrono::Days::new(u64::from(d));
            let r = Redemption { customer: ann().clone(), date, points: pts };
            let mut trial = granted.clone();
            trial.push(r.clone());
            let out = Evaluator::new(&p).replay(
                &MemberRecords::new(ann(), &txns).joined(start).redemptions(&trial),
                date,
            );
            match out {
                Ok(_) => granted.push(r),
                Err(e) => prop_assert!(matches!(e, LoyaltyError::Points(PointsError::InsufficientPoints { .. })), "{}", e),
            }
        }
        let r = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &txns).joined(start).redemptions(&granted), day("2026-01-01"))
            .unwrap();
        let s = r.status().points;
        // Every point credited is spendable, pending, redeemed, expired or clawed back.
        prop_assert_eq!(s.earned, s.balance + s.pending + s.redeemed + s.expired + s.clawed_back);
    }
}

// ---------------------------------------------------------------------------------------------
// Rules as data.

fn shipped_rules() -> Programme {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/loyalty_rules.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_shipped_rules_load_and_round_trip_through_json() {
    let p = shipped_rules();
    assert_eq!(p.ladder().len(), 4);
    assert_eq!(p.points().expiry_days, Some(365));
    let json = serde_json::to_string(&p).unwrap();
    let back: Programme = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

#[test]
fn invalid_rules_json_is_rejected_with_the_reason() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/loyalty_rules.json"
    ))
    .unwrap();
    let bad = text.replace("\"threshold\": \"300\"", "\"threshold\": \"90\"");
    let err = serde_json::from_str::<Programme>(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("not above"), "{err}");
    let bad = text.replace("\"Gold\": \"1.5\"", "\"Bronze\": \"1.5\"");
    let err = serde_json::from_str::<Programme>(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("Bronze"), "{err}");
    let bad = text.replace("\"review_every_months\": 3", "\"review_every_months\": 5");
    assert!(serde_json::from_str::<Programme>(&bad).is_err());
}

fn cdnow_transactions() -> Vec<Transaction> {
    let mut reader =
        csv::Reader::from_path(crate::data_file("cdnow_sample_transactions.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Transaction::purchase(CustomerId::new(&r[0]).unwrap(), day(&r[1]), dec(&r[3])).unwrap()
        })
        .collect()
}

#[test]
fn the_shipped_rules_evaluate_the_cdnow_sample() {
    let p = shipped_rules();
    let txns = cdnow_transactions();
    let out = Evaluator::new(&p)
        .evaluate_base(&[], &txns, &[], &[], day("1997-12-31"))
        .unwrap();
    assert_eq!(out.len(), 2357);
    let mut counts = [0usize; 4];
    for r in &out {
        let s = r.status();
        counts[s.tier_index] += 1;
        // Within the first year nobody has been reviewed down, and upgrades are immediate, so the
        // tier is the one the rolling value reached at its highest; at least the current bucket
        // unless a return lowered the value (none in this log).
        assert!(
            s.tier_index >= p.ladder().bucket(s.qualifying_value),
            "{s:?}"
        );
        assert!(s.points.earned >= s.points.balance);
    }
    // Regression figures of `clv tiers --as-of 1997-12-31` (documented in notes/loyalty.md).
    assert_eq!(counts, [1850, 387, 102, 18]);
}

// ---------------------------------------------------------------------------------------------
// Forecasts, checked against a test-only purchaser with known answers: a Poisson purchaser who
// never drops out (rate per day), and a flat expected spend.

mod forecasts {
    use super::*;
    use customer_assets::loyalty::{
        points_liability, ForecastMethod, ForecastOptions, LiabilityOptions, SpendAssumption,
        TierForecaster,
    };
    use customer_assets::{
        History, Ledger, LedgerOptions, PredictError, SpendModel, SummaryOptions, TimeUnit,
        TransactionModel,
    };
    use rand::{RngExt, SeedableRng};
    use rand_distr::{Distribution, Exp, Gamma};

    struct Poisson {
        per_day: f64,
    }

    impl TransactionModel for Poisson {
        fn name(&self) -> &str {
            "poisson"
        }
        fn unit(&self) -> TimeUnit {
            TimeUnit::DAYS
        }
        fn named_parameters(&self) -> Vec<(String, f64)> {
            vec![("per_day".into(), self.per_day)]
        }
        fn log_likelihood(&self, h: &History) -> Result<f64, PredictError> {
            Ok(f64::from(h.frequency) * self.per_day.ln() - self.per_day * h.age)
        }
        fn p_alive(&self, _: &History, _: f64) -> Result<f64, PredictError> {
            Ok(1.0)
        }
        fn expected_purchases(&self, _: &History, t: f64) -> Result<f64, PredictError> {
            Ok(self.per_day * t)
        }
        fn purchase_probability(&self, _: &History, n: u32, t: f64) -> Result<f64, PredictError> {
            let m = self.per_day * t;
            if m == 0.0 {
                return Ok(if n == 0 { 1.0 } else { 0.0 });
            }
            let n = f64::from(n);
            Ok((n * m.ln() - m - statrs::function::gamma::ln_gamma(n + 1.0)).exp())
        }
        fn expected_purchases_new(&self, t: f64) -> Result<f64, PredictError> {
            Ok(self.per_day * t)
        }
        fn purchase_probability_new(&self, n: u32, t: f64) -> Result<f64, PredictError> {
            self.purchase_probability(&History::new(0, 0.0, 0.0), n, t)
        }
        fn dert(&self, _: &History, rate: f64) -> Result<f64, PredictError> {
            Ok(self.per_day / rate)
        }
    }

    struct FlatSpend(f64);
    impl SpendModel for FlatSpend {
        fn name(&self) -> &str {
            "flat"
        }
        fn expected_spend(&self, _: u32, _: f64) -> Result<f64, PredictError> {
            Ok(self.0)
        }
        fn expected_spend_new(&self) -> Result<f64, PredictError> {
            Ok(self.0)
        }
    }

    /// Customers 0..n joined on `start`, buying as Poisson(per_day) until `end`, amounts Gamma.
    fn simulate_base(
        n: u64,
        per_day: f64,
        shape: f64,
        mean: f64,
        start: NaiveDate,
        end: NaiveDate,
        seed: u64,
    ) -> (Vec<Customer>, Vec<Transaction>) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let gap = Exp::new(per_day).unwrap();
        let spend = Gamma::new(shape, mean / shape).unwrap();
        let days = (end - start).num_days() as f64;
        let mut customers = Vec::new();
        let mut txns = Vec::new();
        for i in 0..n {
            let id = CustomerId::from(i);
            customers.push(Customer::new(id.clone(), start));
            let mut t = gap.sample(&mut rng);
            while t < days {
                let date = start + chrono::Days::new(t as u64);
                let amount = Decimal::from_f64_retain(spend.sample(&mut rng))
                    .unwrap()
                    .round_dp(2);
                txns.push(Transaction::purchase(id.clone(), date, amount).unwrap());
                t += gap.sample(&mut rng);
            }
            let _: f64 = rng.random();
        }
        (customers, txns)
    }

    /// The forecast share keeping (or beating) their tier against the share that did, among
    /// members above the base tier, with the standard error of the realised share.
    fn keep_check(
        forecast: &customer_assets::loyalty::BaseForecast,
        truth: &[Replay],
    ) -> (f64, f64, f64, usize) {
        let mut expected = 0.0;
        let mut var = 0.0;
        let mut kept = 0.0;
        let mut n = 0;
        for (f, r) in forecast.members.iter().zip(truth) {
            assert_eq!(f.customer, r.status().customer);
            if f.current_tier == 0 {
                continue;
            }
            let p = f.p_keep();
            expected += p;
            var += p * (1.0 - p);
            if r.status().tier_index >= f.current_tier {
                kept += 1.0;
            }
            n += 1;
        }
        let n_f = n as f64;
        let out = (expected / n_f, kept / n_f, var.sqrt() / n_f, n);
        eprintln!(
            "keep share: forecast {:.4}, realised {:.4}, se {:.4}, n {}",
            out.0, out.1, out.2, out.3
        );
        out
    }

    #[test]
    fn exact_order_forecast_matches_the_simulated_share_keeping_a_tier() {
        // "Six orders in a calendar year for Silver, twelve for Gold; re-bucketed every Jan 1."
        let l = TierLadder::new(
            Metric::Orders,
            vec![
                Tier::new("Member", dec("0")),
                Tier::new("Silver", dec("6")),
                Tier::new("Gold", dec("12")),
            ],
        )
        .unwrap();
        let p = Programme::new(
            "orders",
            l,
            QualificationWindow::CalendarYear,
            Downgrades::default(),
            EarnRules::default(),
        )
        .unwrap();
        let per_day = 1.0 / 30.0;
        let (customers, txns) = simulate_base(
            1500,
            per_day,
            2.0,
            40.0,
            day("2023-01-01"),
            day("2025-03-01"),
            7,
        );
        // Tiers held at the as-of date were earned in 2023 or so far in 2024; keeping them at the
        // review of 2025-01-01 depends on the orders of 2024 alone.
        let as_of = day("2024-08-31");
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger.extend_transactions(txns.iter().cloned()).unwrap();
        let summaries = ledger
            .summarize(SummaryOptions::new(as_of, TimeUnit::DAYS))
            .unwrap();
        let model = Poisson { per_day };
        let spend = FlatSpend(40.0);
        let ev = Evaluator::new(&p);
        let forecast = TierForecaster::new(ev, &model, &spend)
            .forecast_base(&customers, &txns, &[], &[], &summaries, as_of)
            .unwrap();
        assert!(forecast
            .members
            .iter()
            .all(|f| f.method == ForecastMethod::Exact));
        assert!(forecast
            .members
            .iter()
            .all(|f| f.review == day("2025-01-01")));
        let truth = ev
            .evaluate_base(&customers, &txns, &[], &[], day("2025-01-01"))
            .unwrap();
        // The statuses alone are the replays' statuses, in the same order.
        let statuses = ev
            .evaluate_statuses(&customers, &txns, &[], &[], day("2025-01-01"))
            .unwrap();
        assert_eq!(statuses.len(), truth.len());
        assert!(truth.iter().zip(&statuses).all(|(r, s)| r.status() == s));
        let (expected, realised, se, n) = keep_check(&forecast, &truth);
        assert!(n > 300, "{n} members above the base tier");
        assert!(
            (expected - realised).abs() < 4.0 * se,
            "forecast {expected:.4} vs simulated {realised:.4} (se {se:.4}, n {n})"
        );
        // The expected tier mix matches the realised mix too.
        for (tier, e) in forecast.expected_mix.iter().enumerate() {
            let got = truth
                .iter()
                .filter(|r| r.status().tier_index == tier)
                .count() as f64;
            let var: f64 = forecast
                .members
                .iter()
                .map(|f| f.probabilities[tier] * (1.0 - f.probabilities[tier]))
                .sum();
            assert!(
                (got - e).abs() < 4.0 * var.sqrt() + 1.0,
                "tier {tier}: {got} vs {e:.1}"
            );
        }
    }

    #[test]
    fn simulated_forecast_agrees_with_the_exact_one() {
        let l = TierLadder::new(
            Metric::Orders,
            vec![Tier::new("Member", dec("0")), Tier::new("Gold", dec("8"))],
        )
        .unwrap();
        let p = Programme::new(
            "orders",
            l,
            QualificationWindow::CalendarYear,
            Downgrades {
                policy: DowngradePolicy::Rebucket,
                grace_days: 0,
            },
            EarnRules::default(),
        )
        .unwrap();
        let history: Vec<Transaction> = [
            "2024-01-10",
            "2024-02-10",
            "2024-03-10",
            "2024-04-10",
            "2024-05-10",
            "2024-06-10",
            "2024-07-10",
            "2024-08-10",
        ]
        .iter()
        .map(|d| buy(d, "20"))
        .collect();
        let model = Poisson {
            per_day: 1.0 / 40.0,
        };
        let spend = FlatSpend(20.0);
        let member = MemberRecords::new(ann(), &history);
        let h = History::new(7, 213.0, 234.0);
        let exact = TierForecaster::new(Evaluator::new(&p), &model, &spend)
            .forecast_member(&member, &h, 20.0, day("2024-08-31"))
            .unwrap();
        assert_eq!(exact.method, ForecastMethod::Exact);
        assert_eq!(exact.current_tier, 1);
        // She holds Gold with 8 orders; the review re-buckets 2024, which can only add orders.
        assert!((exact.p_keep() - 1.0).abs() < 1e-12);
        // A member with 5 orders needs 3 more in Sep–Dec (122 days): 1 − P(Poisson(122/40) ≤ 2).
        let five = &history[..5];
        let member = MemberRecords::new(ann(), five);
        let exact = TierForecaster::new(Evaluator::new(&p), &model, &spend)
            .forecast_member(&member, &h, 20.0, day("2024-08-31"))
            .unwrap();
        let m: f64 = 122.0 / 40.0;
        let want = 1.0 - (-m).exp() * (1.0 + m + m * m / 2.0);
        assert!(
            (exact.p_at_least(1) - want).abs() < 1e-9,
            "{} vs {want}",
            exact.p_at_least(1)
        );
        let options = ForecastOptions {
            simulations: 4000,
            seed: 3,
            exact_when_possible: false,
            spend: SpendAssumption::Gamma { shape: 2.0 },
            ..ForecastOptions::default()
        };
        let sim = TierForecaster::new(Evaluator::new(&p), &model, &spend)
            .options(options)
            .unwrap()
            .forecast_member(&member, &h, 20.0, day("2024-08-31"))
            .unwrap();
        assert_eq!(sim.method, ForecastMethod::Simulated { runs: 4000 });
        let se = (want * (1.0 - want) / 4000.0).sqrt();
        assert!(
            (sim.p_at_least(1) - want).abs() < 4.0 * se,
            "{} vs {want}",
            sim.p_at_least(1)
        );
    }

    #[test]
    fn simulated_spend_forecast_on_a_rolling_window_matches_the_simulated_share() {
        // "Spend $300 in the last 180 days for Silver, $800 for Gold; reviewed quarterly, one
        // tier down at a time." Amounts Gamma(shape 2, mean $40), as assumed by the forecast.
        let l = TierLadder::new(
            Metric::Spend,
            vec![
                Tier::new("Member", dec("0")),
                Tier::new("Silver", dec("300")),
                Tier::new("Gold", dec("800")),
            ],
        )
        .unwrap();
        let w = QualificationWindow::Rolling {
            days: 180,
            review_every_months: 3,
        };
        let p = Programme::new(
            "rolling",
            l,
            w,
            Downgrades {
                policy: DowngradePolicy::OneTier,
                grace_days: 0,
            },
            EarnRules::default(),
        )
        .unwrap();
        let per_day = 1.0 / 20.0;
        let (customers, txns) = simulate_base(
            500,
            per_day,
            2.0,
            40.0,
            day("2023-01-01"),
            day("2023-12-31"),
            11,
        );
        let as_of = day("2023-08-15");
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger.extend_transactions(txns.iter().cloned()).unwrap();
        let summaries = ledger
            .summarize(SummaryOptions::new(as_of, TimeUnit::DAYS))
            .unwrap();
        let model = Poisson { per_day };
        let spend = FlatSpend(40.0);
        let ev = Evaluator::new(&p);
        let options = ForecastOptions {
            simulations: 100,
            seed: 5,
            spend: SpendAssumption::Gamma { shape: 2.0 },
            ..ForecastOptions::default()
        };
        let forecast = TierForecaster::new(ev, &model, &spend)
            .options(options)
            .unwrap()
            .forecast_base(&customers, &txns, &[], &[], &summaries, as_of)
            .unwrap();
        assert!(forecast
            .members
            .iter()
            .all(|f| f.review == day("2023-10-01")));
        let truth = ev
            .evaluate_base(&customers, &txns, &[], &[], day("2023-10-01"))
            .unwrap();
        let (expected, realised, se, n) = keep_check(&forecast, &truth);
        assert!(n > 200, "{n}");
        // Sampling error of the realised share plus the forecast's own simulation error.
        let tolerance = 4.0 * (se * se + 0.25 / (100.0 * n as f64)).sqrt();
        assert!(
            (expected - realised).abs() < tolerance,
            "forecast {expected:.4} vs simulated {realised:.4} (tolerance {tolerance:.4}, n {n})"
        );
        // Same seed, same forecast.
        let again = TierForecaster::new(ev, &model, &spend)
            .options(options)
            .unwrap()
            .forecast_base(&customers, &txns, &[], &[], &summaries, as_of)
            .unwrap();
        assert_eq!(again, forecast);
    }

    #[test]
    fn points_liability_of_a_poisson_purchaser_is_known() {
        // Points expire after 365 days; a member redeems at 1 purchase in 4.
        let p = points_programme(EarnRules {
            expiry_days: Some(365),
            ..EarnRules::default()
        });
        let history = [buy("2024-01-10", "100"), buy("2024-02-20", "60")];
        let as_of = day("2024-03-01");
        let r = Evaluator::new(&p)
            .replay(&MemberRecords::new(ann(), &history), as_of)
            .unwrap();
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger.extend_transactions(history.iter().cloned()).unwrap();
        let summaries = ledger
            .summarize(SummaryOptions::new(as_of, TimeUnit::DAYS))
            .unwrap();
        let per_day = 0.05;
        let rho = 0.25;
        let options = LiabilityOptions {
            point_value: dec("0.01"),
            redemption_per_purchase: rho,
            horizon_without_expiry_days: 3650,
        };
        let l = points_liability(&[r], &summaries, &Poisson { per_day }, &options).unwrap();
        // P(redeemed) = 1 − E[(1 − ρ)^N] = 1 − exp(−λ h ρ), h = days strictly between.
        let p = |expires: &str| {
            let h = (day(expires) - as_of).num_days() as f64 - 1.0;
            1.0 - (-per_day * h * rho).exp()
        };
        let want = 100.0 * p("2025-01-09") + 60.0 * p("2025-02-19");
        assert_eq!(l.outstanding, 160);
        assert_eq!(l.face_value, dec("1.60"));
        assert!(
            (l.expected_redeemed - want).abs() < 1e-9,
            "{} vs {want}",
            l.expected_redeemed
        );
        assert_eq!(
            l.value,
            Decimal::from_f64_retain(want / 100.0).unwrap().round_dp(2)
        );
        let bad = LiabilityOptions {
            redemption_per_purchase: 1.5,
            ..options
        };
        assert!(points_liability(&[], &summaries, &Poisson { per_day }, &bad).is_err());
    }

    #[test]
    fn bg_nbd_order_forecast_matches_the_share_of_simulated_bg_nbd_customers_keeping_a_tier() {
        use customer_assets::models::bg_nbd::{BgNbd, BgNbdParameters};
        use customer_assets::simulate::{simulate, BgNbdProcess, SimulationOptions};
        // "Three orders in a calendar year for Silver, eight for Gold; re-bucketed every Jan 1."
        let l = TierLadder::new(
            Metric::Orders,
            vec![
                Tier::new("Member", dec("0")),
                Tier::new("Silver", dec("3")),
                Tier::new("Gold", dec("8")),
            ],
        )
        .unwrap();
        let p = Programme::new(
            "orders",
            l,
            QualificationWindow::CalendarYear,
            Downgrades::default(),
            EarnRules::default(),
        )
        .unwrap();
        let (r, alpha, a, b) = (0.9, 3.0, 0.6, 3.0); // alpha per week
        let process = BgNbdProcess::new(r, alpha, a, b).unwrap();
        let opts = SimulationOptions::new(
            3000,
            day("2023-01-01"),
            day("2025-01-31"),
            TimeUnit::WEEKS,
            42,
        )
        .acquisition_days(60);
        let base = simulate(&process, &opts).unwrap();
        // Tiers earned in 2023 are kept at the review of 2025-01-01 only with enough 2024 orders,
        // and BG/NBD customers may have dropped out.
        let as_of = day("2024-06-30");
        let mut ledger = Ledger::new(LedgerOptions::default());
        ledger
            .extend_transactions(base.transactions().iter().cloned())
            .unwrap();
        let summaries = ledger
            .summarize(SummaryOptions::new(as_of, TimeUnit::WEEKS))
            .unwrap();
        let model = BgNbd::new(BgNbdParameters { r, alpha, a, b }, TimeUnit::WEEKS).unwrap();
        let spend = FlatSpend(1.0);
        let ev = Evaluator::new(&p);
        let forecast = TierForecaster::new(ev, &model, &spend)
            .forecast_base(
                base.customers(),
                base.transactions(),
                &[],
                &[],
                &summaries,
                as_of,
            )
            .unwrap();
        assert!(forecast
            .members
            .iter()
            .all(|f| f.method == ForecastMethod::Exact));
        let truth = ev
            .evaluate_base(
                base.customers(),
                base.transactions(),
                &[],
                &[],
                day("2025-01-01"),
            )
            .unwrap();
        let (expected, realised, se, n) = keep_check(&forecast, &truth);
        assert!(n > 500, "{n} members above the base tier");
        assert!(
            (expected - realised).abs() < 4.0 * se,
            "forecast {expected:.4} vs simulated {realised:.4} (se {se:.4}, n {n})"
        );
    }
}
