//! Feedback: satisfaction scores and the 0–10 likelihood to recommend.

use chrono::NaiveDate;

use super::error::RecordError;
use super::id::CustomerId;

/// The scale of a satisfaction score, e.g. 1..=5 (CSAT) or 1..=7.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SatisfactionScore {
    /// The score.
    pub score: f64,
    /// Lowest possible score.
    pub min: f64,
    /// Highest possible score.
    pub max: f64,
}

/// A customer's feedback: a satisfaction score on a stated scale and/or a 0–10 likelihood to
/// recommend (the NPS question).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::{CustomerId, Feedback};
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let f = Feedback::new(CustomerId::from(1u64), day, Some((4.0, 1.0, 5.0)), Some(9))?;
/// assert_eq!(f.recommend(), Some(9));
/// assert!(Feedback::new(CustomerId::from(1u64), day, None, Some(11)).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "FeedbackRaw"))]
pub struct Feedback {
    customer: CustomerId,
    date: NaiveDate,
    satisfaction: Option<SatisfactionScore>,
    recommend: Option<u8>,
}

/// The serialized form of a [`Feedback`], checked by [`Feedback::new`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct FeedbackRaw {
    customer: CustomerId,
    date: NaiveDate,
    satisfaction: Option<SatisfactionScore>,
    recommend: Option<u8>,
}

#[cfg(feature = "serde")]
impl TryFrom<FeedbackRaw> for Feedback {
    type Error = RecordError;
    fn try_from(raw: FeedbackRaw) -> Result<Self, RecordError> {
        Feedback::new(
            raw.customer,
            raw.date,
            raw.satisfaction.map(|s| (s.score, s.min, s.max)),
            raw.recommend,
        )
    }
}

impl Feedback {
    /// Makes a feedback record. `satisfaction` is `(score, scale_min, scale_max)`; `recommend` is
    /// the 0–10 answer to "how likely are you to recommend us". At least one must be given.
    ///
    /// # Errors
    ///
    /// [`RecordError::EmptyFeedback`] when neither score is given;
    /// [`RecordError::SatisfactionOutOfScale`] for a satisfaction score that is not finite or lies
    /// outside its scale, or a scale whose ends are not finite with min < max;
    /// [`RecordError::RecommendOutOfRange`] for a recommend score above 10.
    pub fn new(
        customer: CustomerId,
        date: NaiveDate,
        satisfaction: Option<(f64, f64, f64)>,
        recommend: Option<u8>,
    ) -> Result<Self, RecordError> {
        let record = format!("of customer {customer} on {date}");
        if satisfaction.is_none() && recommend.is_none() {
            return Err(RecordError::EmptyFeedback { record });
        }
        let satisfaction = match satisfaction {
            Some((score, min, max)) => {
                let ok = score.is_finite()
                    && min.is_finite()
                    && max.is_finite()
                    && min < max
                    && (min..=max).contains(&score);
                if !ok {
                    return Err(RecordError::SatisfactionOutOfScale {
                        record,
                        score,
                        min,
                        max,
                    });
                }
                Some(SatisfactionScore { score, min, max })
            }
            None => None,
        };
        if let Some(score) = recommend {
            if score > 10 {
                return Err(RecordError::RecommendOutOfRange { record, score });
            }
        }
        Ok(Feedback {
            customer,
            date,
            satisfaction,
            recommend,
        })
    }

    /// The same feedback for another customer id, everything else kept (for example the id's
    /// pseudonym, from [`Pseudonymizer::pseudonym`](crate::Pseudonymizer::pseudonym)).
    pub fn with_customer(mut self, customer: CustomerId) -> Self {
        self.customer = customer;
        self
    }

    /// The customer.
    pub fn customer(&self) -> &CustomerId {
        &self.customer
    }
    /// The date of the feedback.
    pub fn date(&self) -> NaiveDate {
        self.date
    }
    /// The satisfaction score with its scale.
    pub fn satisfaction(&self) -> Option<SatisfactionScore> {
        self.satisfaction
    }
    /// The 0–10 recommend score.
    pub fn recommend(&self) -> Option<u8> {
        self.recommend
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn feedback_scores_are_validated() {
        let id = CustomerId::from(1u64);
        let d = day(2024, 1, 1);
        assert!(matches!(
            Feedback::new(id.clone(), d, None, None),
            Err(RecordError::EmptyFeedback { .. })
        ));
        assert!(matches!(
            Feedback::new(id.clone(), d, Some((6.0, 1.0, 5.0)), None),
            Err(RecordError::SatisfactionOutOfScale { .. })
        ));
        assert!(matches!(
            Feedback::new(id, d, None, Some(11)),
            Err(RecordError::RecommendOutOfRange { .. })
        ));
    }

    #[test]
    fn with_customer_changes_the_customer_only() {
        let d = day(2024, 1, 1);
        let f = Feedback::new(CustomerId::from(1u64), d, Some((4.0, 1.0, 5.0)), Some(9)).unwrap();
        let moved = f.clone().with_customer(CustomerId::new("p-1").unwrap());
        assert_eq!(moved.customer(), &CustomerId::new("p-1").unwrap());
        assert_eq!(
            moved.with_customer(CustomerId::from(1u64)),
            f,
            "only the customer changed"
        );
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_is_checked_by_the_constructor_and_valid_json_round_trips() {
        let id = CustomerId::from(1u64);
        let d = day(2024, 1, 1);
        for f in [
            Feedback::new(id.clone(), d, Some((4.0, 1.0, 5.0)), Some(9)).unwrap(),
            Feedback::new(id.clone(), d, None, Some(0)).unwrap(),
            Feedback::new(id.clone(), d, Some((1.5, 1.0, 7.0)), None).unwrap(),
        ] {
            let json = serde_json::to_string(&f).unwrap();
            assert_eq!(serde_json::from_str::<Feedback>(&json).unwrap(), f);
        }
        let record = |satisfaction: &str, recommend: &str| {
            format!(
                r#"{{"customer":1,"date":"2024-01-01","satisfaction":{satisfaction},"recommend":{recommend}}}"#
            )
        };
        let cases = [
            (
                record("null", "11"),
                Feedback::new(id.clone(), d, None, Some(11)),
            ),
            (
                record(r#"{"score":6.0,"min":1.0,"max":5.0}"#, "null"),
                Feedback::new(id.clone(), d, Some((6.0, 1.0, 5.0)), None),
            ),
            (
                record("null", "null"),
                Feedback::new(id.clone(), d, None, None),
            ),
        ];
        for (json, want) in cases {
            let want = want.unwrap_err();
            let err = serde_json::from_str::<Feedback>(&json).unwrap_err();
            assert!(
                err.to_string().contains(&want.to_string()),
                "{err} vs {want}"
            );
        }
    }
}
