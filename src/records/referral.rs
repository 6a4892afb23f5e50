//! Referrals: one customer bringing another, on a day, perhaps through a channel.

use std::fmt;

use chrono::NaiveDate;

use super::error::RecordError;
use super::id::CustomerId;
use super::label::{label_problem, LabelProblem};

/// The longest referral channel, in characters: a channel is a short code (`app`,
/// `friend-link`), not a description.
pub const MAX_CHANNEL_LEN: usize = 64;

/// A referral: the referrer brought the referred customer on a day, perhaps through a channel.
///
/// Built only by [`Referral::new`] (no one refers themselves) and [`Referral::with_channel`] (a
/// short code: not blank, no control characters, at most [`MAX_CHANNEL_LEN`] characters). A
/// [`Ledger`](crate::Ledger) checks it against the customers it holds
/// ([`Ledger::add_referral`](crate::Ledger::add_referral)).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::records::Referral;
/// use customer_assets::CustomerId;
/// let day = NaiveDate::from_ymd_opt(2024, 3, 1).ok_or("bad date")?;
/// let (ann, bob) = (CustomerId::new("ann")?, CustomerId::new("bob")?);
/// let r = Referral::new(ann.clone(), bob.clone(), day)?.with_channel("app")?;
/// assert_eq!((r.referrer(), r.referred(), r.channel()), (&ann, &bob, Some("app")));
/// assert!(Referral::new(ann.clone(), ann, day).is_err()); // no self-referral
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ReferralRaw"))]
pub struct Referral {
    referrer: CustomerId,
    referred: CustomerId,
    date: NaiveDate,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    channel: Option<String>,
}

/// The serialized form of a [`Referral`], checked by its constructors on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ReferralRaw {
    referrer: CustomerId,
    referred: CustomerId,
    date: NaiveDate,
    #[serde(default)]
    channel: Option<String>,
}

#[cfg(feature = "serde")]
impl TryFrom<ReferralRaw> for Referral {
    type Error = RecordError;
    fn try_from(raw: ReferralRaw) -> Result<Self, RecordError> {
        let r = Referral::new(raw.referrer, raw.referred, raw.date)?;
        match raw.channel {
            Some(channel) => r.with_channel(&channel),
            None => Ok(r),
        }
    }
}

impl Referral {
    /// `referrer` brought `referred` on `date`.
    ///
    /// # Errors
    ///
    /// [`RecordError::SelfReferral`] when the two are the same customer.
    pub fn new(
        referrer: CustomerId,
        referred: CustomerId,
        date: NaiveDate,
    ) -> Result<Self, RecordError> {
        if referrer == referred {
            return Err(RecordError::SelfReferral {
                record: format!("referral of {referred} by {referrer} on {date}"),
                customer: referrer.to_string(),
            });
        }
        Ok(Referral {
            referrer,
            referred,
            date,
            channel: None,
        })
    }

    /// The same referral, made through `channel` (surrounding white space trimmed).
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidReferralChannel`] for a blank channel, one with control characters
    /// or one longer than [`MAX_CHANNEL_LEN`] characters.
    pub fn with_channel(mut self, channel: &str) -> Result<Self, RecordError> {
        let channel = channel.trim();
        if let Some(problem) = label_problem(channel, MAX_CHANNEL_LEN) {
            return Err(RecordError::InvalidReferralChannel {
                record: self.to_string(),
                reason: match problem {
                    LabelProblem::Blank => "the channel is blank",
                    LabelProblem::Control => "the channel holds control characters",
                    LabelProblem::TooLong => "the channel is longer than 64 characters",
                },
            });
        }
        self.channel = Some(channel.to_owned());
        Ok(self)
    }

    /// The customer who made the referral.
    pub fn referrer(&self) -> &CustomerId {
        &self.referrer
    }
    /// The customer who was referred.
    pub fn referred(&self) -> &CustomerId {
        &self.referred
    }
    /// The day of the referral.
    pub fn date(&self) -> NaiveDate {
        self.date
    }
    /// The channel it came through, if one was given.
    pub fn channel(&self) -> Option<&str> {
        self.channel.as_deref()
    }

    /// The same referral between other customers (erasure and pseudonyms rename both sides
    /// consistently, so no one comes to refer themselves).
    pub(crate) fn with_parties(mut self, referrer: CustomerId, referred: CustomerId) -> Self {
        self.referrer = referrer;
        self.referred = referred;
        self
    }
}

/// `referral of BOB by ANN on 2024-03-01`: how errors name the record.
impl fmt::Display for Referral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "referral of {} by {} on {}",
            self.referred, self.referrer, self.date
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }
    fn id(s: &str) -> CustomerId {
        CustomerId::new(s).unwrap()
    }

    #[test]
    fn a_self_referral_is_an_error_naming_the_customer() {
        let err = Referral::new(id("ann"), id("ann"), day(1, 1)).unwrap_err();
        assert_eq!(
            err,
            RecordError::SelfReferral {
                record: "referral of ann by ann on 2024-01-01".into(),
                customer: "ann".into(),
            }
        );
        assert!(err.to_string().contains("ann refers themselves"), "{err}");
    }

    #[test]
    fn channels_are_validated_short_codes() {
        let r = Referral::new(id("ann"), id("bob"), day(1, 1)).unwrap();
        assert_eq!(r.channel(), None);
        assert_eq!(
            r.clone().with_channel(" app ").unwrap().channel(),
            Some("app")
        );
        assert!(r.clone().with_channel(&"x".repeat(64)).is_ok());
        for (bad, why) in [
            ("  ", "blank"),
            ("a\nb", "control"),
            (&"x".repeat(65), "longer"),
        ] {
            let err = r.clone().with_channel(bad).unwrap_err();
            assert!(
                matches!(err, RecordError::InvalidReferralChannel { .. }),
                "{err}"
            );
            assert!(err.to_string().contains(why), "{err}");
            assert!(err.to_string().contains("referral of bob by ann"), "{err}");
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_is_checked_on_the_way_in() {
        let r = Referral::new(id("ann"), id("bob"), day(1, 1))
            .unwrap()
            .with_channel("app")
            .unwrap();
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(
            json,
            r#"{"referrer":"ann","referred":"bob","date":"2024-01-01","channel":"app"}"#
        );
        assert_eq!(serde_json::from_str::<Referral>(&json).unwrap(), r);
        let own = json.replace("\"bob\"", "\"ann\"");
        assert!(serde_json::from_str::<Referral>(&own).is_err());
        let blank = json.replace("\"app\"", "\"\"");
        assert!(serde_json::from_str::<Referral>(&blank).is_err());
    }
}
