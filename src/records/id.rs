//! Customer ids, from integers or text.

use std::fmt;
use std::sync::Arc;

use super::error::RecordError;

/// Whether `text` makes no id: empty or only white space (what [`CustomerId::new`] rejects).
pub(crate) fn is_blank_id(text: &str) -> bool {
    text.trim().is_empty()
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum IdRepr {
    Int(u64),
    Text(Arc<str>),
}

/// A customer's identifier, from an integer or from text.
///
/// Integer ids are stored without allocation; text ids share their storage, so cloning an id is
/// cheap either way. Text that reads as a plain unsigned integer (`"42"`) becomes the integer id, so
/// the same customer read from two sources compares equal. Ids order integers first (numerically),
/// then text.
///
/// ```
/// use customer_assets::CustomerId;
/// let a = CustomerId::new("42")?;
/// assert_eq!(a, CustomerId::from(42u64));
/// assert_eq!(CustomerId::new("acme-7")?.to_string(), "acme-7");
/// assert!(CustomerId::new("  ").is_err());
/// # Ok::<(), customer_assets::RecordError>(())
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerId(IdRepr);

impl CustomerId {
    /// Makes an id from text, trimmed of surrounding white space.
    ///
    /// # Errors
    ///
    /// [`RecordError::EmptyCustomerId`] when the text is empty or only white space.
    pub fn new(text: &str) -> Result<Self, RecordError> {
        if is_blank_id(text) {
            return Err(RecordError::EmptyCustomerId);
        }
        let text = text.trim();
        // Only canonical integers ("42", not "042" or "+42") map to integer ids, so the text
        // round-trips; checking the digits first avoids an allocation per row on large logs.
        let canonical =
            text.bytes().all(|b| b.is_ascii_digit()) && (text.len() == 1 || !text.starts_with('0'));
        if canonical {
            if let Ok(n) = text.parse::<u64>() {
                return Ok(CustomerId(IdRepr::Int(n)));
            }
        }
        Ok(CustomerId(IdRepr::Text(Arc::from(text))))
    }

    /// The integer value, when the id is an integer.
    pub fn as_u64(&self) -> Option<u64> {
        match &self.0 {
            IdRepr::Int(n) => Some(*n),
            IdRepr::Text(_) => None,
        }
    }

    /// A text id from text the caller knows is neither blank nor a canonical integer (a digest's
    /// hex digits: far longer than any `u64`), so it skips [`CustomerId::new`]'s checks.
    pub(crate) fn from_opaque_text(text: &str) -> Self {
        debug_assert!(!is_blank_id(text) && text.len() > 20);
        CustomerId(IdRepr::Text(Arc::from(text)))
    }

    /// The id's text form as bytes, as [`Display`](fmt::Display) writes it (an integer's decimal
    /// digits go to `buffer`, which holds any `u64`), without allocating.
    pub(crate) fn text_bytes<'a>(&'a self, buffer: &'a mut [u8; 20]) -> &'a [u8] {
        match &self.0 {
            IdRepr::Text(t) => t.as_bytes(),
            IdRepr::Int(n) => {
                let (mut n, mut start) = (*n, buffer.len());
                loop {
                    start -= 1;
                    // A remainder below 10 fits a byte.
                    buffer[start] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                &buffer[start..]
            }
        }
    }

    /// The shared text, when the id is text (for indexes that key text ids apart from integers).
    pub(crate) fn as_text(&self) -> Option<&Arc<str>> {
        match &self.0 {
            IdRepr::Int(_) => None,
            IdRepr::Text(t) => Some(t),
        }
    }
}

impl From<u64> for CustomerId {
    fn from(n: u64) -> Self {
        CustomerId(IdRepr::Int(n))
    }
}

impl From<u32> for CustomerId {
    fn from(n: u32) -> Self {
        CustomerId(IdRepr::Int(u64::from(n)))
    }
}

impl std::str::FromStr for CustomerId {
    type Err = RecordError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CustomerId::new(s)
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            IdRepr::Int(n) => write!(f, "{n}"),
            IdRepr::Text(t) => f.write_str(t),
        }
    }
}

impl fmt::Debug for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CustomerId({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CustomerId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            IdRepr::Int(n) => s.serialize_u64(*n),
            IdRepr::Text(t) => s.serialize_str(t),
        }
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CustomerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl serde::de::Visitor<'_> for IdVisitor {
            type Value = CustomerId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty string or an unsigned integer")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CustomerId, E> {
                Ok(CustomerId::from(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CustomerId, E> {
                u64::try_from(v)
                    .map(CustomerId::from)
                    .map_err(|_| E::custom("customer id must not be negative"))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<CustomerId, E> {
                CustomerId::new(v).map_err(E::custom)
            }
        }
        d.deserialize_any(IdVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bytes_are_the_displayed_text() {
        for n in [0u64, 9, 10, 99, 12_345, u64::MAX] {
            let id = CustomerId::from(n);
            assert_eq!(id.text_bytes(&mut [0; 20]), n.to_string().as_bytes());
        }
        let id = CustomerId::new(" acme-7 ").unwrap();
        assert_eq!(id.text_bytes(&mut [0; 20]), b"acme-7");
    }

    #[test]
    fn integer_text_ids_equal_integer_ids_but_padded_text_does_not() {
        assert_eq!(CustomerId::new(" 42 ").unwrap(), CustomerId::from(42u64));
        assert_ne!(CustomerId::new("042").unwrap(), CustomerId::from(42u64));
        assert_eq!(CustomerId::new("042").unwrap().to_string(), "042");
        assert_eq!(CustomerId::new("0").unwrap(), CustomerId::from(0u64));
        assert_eq!(CustomerId::new("+4").unwrap().to_string(), "+4");
        assert_eq!(
            CustomerId::new("99999999999999999999").unwrap().as_u64(),
            None
        );
        assert_eq!(
            CustomerId::new("").unwrap_err(),
            RecordError::EmptyCustomerId
        );
    }
}
