//! Consent: what a customer agreed their data may be used for, from when and until when.

use std::borrow::Cow;
use std::fmt;

use chrono::NaiveDate;

use super::error::RecordError;
use super::label::{label_problem, LabelProblem};

/// The longest purpose name, in characters: a purpose is a short code, not a description.
pub const MAX_PURPOSE_LEN: usize = 64;

/// A purpose a customer may consent to, such as marketing contact or profiling.
///
/// The two purposes most marketing uses need are constants; others are named by
/// [`Purpose::new`]. A purpose is a short code (no blank, no control characters, at most
/// [`MAX_PURPOSE_LEN`] characters); it serializes as its name.
///
/// ```
/// use customer_assets::records::Purpose;
/// assert_eq!(Purpose::MARKETING_CONTACT.name(), "marketing_contact");
/// assert_eq!(Purpose::new("surveys")?.name(), "surveys");
/// assert!(Purpose::new(" ").is_err());
/// # Ok::<(), customer_assets::RecordError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct Purpose(Cow<'static, str>);

impl Purpose {
    /// Contacting the customer with marketing (e-mail, telephone, post).
    pub const MARKETING_CONTACT: Purpose = Purpose(Cow::Borrowed("marketing_contact"));
    /// Profiling: scoring, segmenting and valuing the customer from their data.
    pub const PROFILING: Purpose = Purpose(Cow::Borrowed("profiling"));

    /// A purpose by name (surrounding white space trimmed).
    ///
    /// # Errors
    ///
    /// [`RecordError::InvalidPurpose`] for a blank name, one with control characters or one
    /// longer than [`MAX_PURPOSE_LEN`] characters.
    pub fn new(name: &str) -> Result<Self, RecordError> {
        let name = name.trim();
        match label_problem(name, MAX_PURPOSE_LEN) {
            Some(problem) => Err(RecordError::InvalidPurpose {
                name: name.chars().take(MAX_PURPOSE_LEN).collect(),
                reason: match problem {
                    LabelProblem::Blank => "it is blank",
                    LabelProblem::Control => "it holds control characters",
                    LabelProblem::TooLong => "it is longer than 64 characters",
                },
            }),
            None => Ok(Purpose(Cow::Owned(name.to_owned()))),
        }
    }

    /// The purpose's name.
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Purpose {
    type Error = RecordError;
    fn try_from(name: String) -> Result<Self, RecordError> {
        Purpose::new(&name)
    }
}

impl From<Purpose> for String {
    fn from(purpose: Purpose) -> String {
        purpose.0.into_owned()
    }
}

/// One consent: to a purpose, given on a day and perhaps withdrawn on a later one.
///
/// It covers the days from `given` up to the day before `withdrawn` (a consent withdrawn the
/// day it was given covers no day).
///
/// ```
/// use chrono::NaiveDate;
/// use customer_assets::records::{Consent, Purpose};
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).ok_or("bad date");
/// let c = Consent::given(Purpose::PROFILING, d(1, 10)?).withdrawn(d(3, 1)?)?;
/// assert!(c.covers(d(2, 28)?));
/// assert!(!c.covers(d(3, 1)?));
/// assert!(Consent::given(Purpose::PROFILING, d(1, 10)?).withdrawn(d(1, 9)?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "ConsentRaw"))]
pub struct Consent {
    purpose: Purpose,
    given: NaiveDate,
    withdrawn: Option<NaiveDate>,
}

/// The serialized form of a [`Consent`], checked by [`Consent::withdrawn`] on the way in.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct ConsentRaw {
    purpose: Purpose,
    given: NaiveDate,
    withdrawn: Option<NaiveDate>,
}

#[cfg(feature = "serde")]
impl TryFrom<ConsentRaw> for Consent {
    type Error = RecordError;
    fn try_from(raw: ConsentRaw) -> Result<Self, RecordError> {
        let consent = Consent::given(raw.purpose, raw.given);
        match raw.withdrawn {
            Some(day) => consent.withdrawn(day),
            None => Ok(consent),
        }
    }
}

impl Consent {
    /// A consent to `purpose` given on `day`, not withdrawn.
    pub fn given(purpose: Purpose, day: NaiveDate) -> Self {
        Consent {
            purpose,
            given: day,
            withdrawn: None,
        }
    }

    /// The same consent, withdrawn on `day`.
    ///
    /// # Errors
    ///
    /// [`RecordError::WithdrawalBeforeConsent`] when `day` comes before the day it was given.
    pub fn withdrawn(mut self, day: NaiveDate) -> Result<Self, RecordError> {
        if day < self.given {
            return Err(RecordError::WithdrawalBeforeConsent {
                record: format!("consent to {}", self.purpose),
                given: Some(self.given),
                withdrawn: day,
            });
        }
        self.withdrawn = Some(day);
        Ok(self)
    }

    /// The purpose.
    pub fn purpose(&self) -> &Purpose {
        &self.purpose
    }
    /// The day it was given.
    pub fn given_on(&self) -> NaiveDate {
        self.given
    }
    /// The day it was withdrawn, if it was.
    pub fn withdrawn_on(&self) -> Option<NaiveDate> {
        self.withdrawn
    }
    /// Whether it covers `day`: given on or before it and not withdrawn on or before it.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.given <= day && self.withdrawn.is_none_or(|w| day < w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2024, m, d).unwrap()
    }

    #[test]
    fn purposes_are_validated_short_codes() {
        assert_eq!(Purpose::new(" profiling ").unwrap(), Purpose::PROFILING);
        for (bad, why) in [
            ("", "blank"),
            ("a\tb", "control"),
            (&"x".repeat(65), "longer"),
        ] {
            let err = Purpose::new(bad).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
        assert!(Purpose::new(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn a_consent_covers_the_days_from_given_to_before_withdrawn() {
        let open = Consent::given(Purpose::MARKETING_CONTACT, day(2, 1));
        assert!(!open.covers(day(1, 31)));
        assert!(open.covers(day(2, 1)));
        assert!(open.covers(day(12, 31)));
        let same_day = open.clone().withdrawn(day(2, 1)).unwrap();
        assert!(!same_day.covers(day(2, 1)));
        let err = open.withdrawn(day(1, 31)).unwrap_err();
        assert!(
            matches!(err, RecordError::WithdrawalBeforeConsent { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("marketing_contact"), "{err}");
    }

    #[cfg(feature = "serde")]
    #[test]
    fn json_is_checked_on_the_way_in() {
        let c = Consent::given(Purpose::PROFILING, day(1, 1))
            .withdrawn(day(2, 1))
            .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(
            json,
            r#"{"purpose":"profiling","given":"2024-01-01","withdrawn":"2024-02-01"}"#
        );
        assert_eq!(serde_json::from_str::<Consent>(&json).unwrap(), c);
        let inverted = json.replace("2024-02-01", "2023-12-01");
        assert!(serde_json::from_str::<Consent>(&inverted).is_err());
        assert!(serde_json::from_str::<Purpose>(r#""""#).is_err());
    }
}
