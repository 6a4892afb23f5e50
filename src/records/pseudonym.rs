//! Pseudonymisation: a keyed, one-way mapping of customer ids, and the key holder's way back.
//!
//! Summaries, fits and reports made from a pseudonymised ledger can leave the company's trusted
//! zone without the identities in them: every model and report of this crate depends on the
//! transactions of each customer, never on what the customer's id says, so they come out the same
//! with every id replaced by its pseudonym.

use std::collections::HashMap;
use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::id::CustomerId;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Why a [`Pseudonymizer`] could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PseudonymError {
    /// The key is shorter than [`Pseudonymizer::MIN_KEY_BYTES`].
    #[error("pseudonymisation key: {length} bytes is too short, at least {minimum} are needed")]
    KeyTooShort {
        /// The length of the key given, in bytes.
        length: usize,
        /// [`Pseudonymizer::MIN_KEY_BYTES`].
        minimum: usize,
    },
}

/// A keyed, one-way mapping of customer ids to pseudonyms.
///
/// The pseudonym of an id is the HMAC-SHA-256, under the key, of the id's text form encoded as
/// UTF-8 (what its [`Display`](fmt::Display) writes: an integer id as its decimal digits, so
/// `CustomerId::from(42u64)` and `CustomerId::new("42")` share their pseudonym), written as 64
/// lowercase hexadecimal digits. The same id under the same key always gets the same pseudonym;
/// under another key an unrelated one. Without the key, a pseudonym cannot be traced back to its
/// id, not even by hashing guessed ids.
///
/// The key is an input: the crate keeps it only inside this value (as the HMAC's keyed state),
/// never prints it (`Debug` shows no key material) and cannot serialize it. The key holder goes
/// back from pseudonyms to ids through a [`Reidentifier`].
///
/// ```
/// use customer_assets::{CustomerId, Pseudonymizer};
/// let key = [7u8; 32]; // in practice 32 random bytes kept by the data controller
/// let pseudonymizer = Pseudonymizer::new(&key)?;
/// let alias = pseudonymizer.pseudonym(&CustomerId::from(42u64));
/// assert_eq!(alias, pseudonymizer.pseudonym(&CustomerId::new("42")?));
/// assert_eq!(alias.to_string().len(), 64);
/// assert!(Pseudonymizer::new(b"too short").is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Pseudonymizer {
    // The HMAC already keyed (the key's inner and outer pads hashed once): each pseudonym clones
    // it instead of hashing the key again.
    keyed: Hmac<Sha256>,
}

impl Pseudonymizer {
    /// The shortest key accepted, in bytes: the output length of SHA-256, below which the key and
    /// not the hash would bound how hard pseudonyms are to reverse.
    pub const MIN_KEY_BYTES: usize = 32;

    /// Makes a pseudonymizer from a secret key of at least [`Self::MIN_KEY_BYTES`] bytes.
    ///
    /// # Errors
    ///
    /// [`PseudonymError::KeyTooShort`] when the key has fewer than [`Self::MIN_KEY_BYTES`] bytes.
    pub fn new(key: &[u8]) -> Result<Self, PseudonymError> {
        if key.len() < Self::MIN_KEY_BYTES {
            return Err(PseudonymError::KeyTooShort {
                length: key.len(),
                minimum: Self::MIN_KEY_BYTES,
            });
        }
        // HMAC takes keys of any length, so this never fails; the fallback keeps it panic-free.
        Hmac::<Sha256>::new_from_slice(key)
            .map(|keyed| Pseudonymizer { keyed })
            .map_err(|_| PseudonymError::KeyTooShort {
                length: key.len(),
                minimum: Self::MIN_KEY_BYTES,
            })
    }

    /// The pseudonym of `id`: HMAC-SHA-256 of the id's UTF-8 text under the key, as 64 lowercase
    /// hex digits (see [`Pseudonymizer`]).
    pub fn pseudonym(&self, id: &CustomerId) -> CustomerId {
        let mut mac = self.keyed.clone();
        mac.update(id.text_bytes(&mut [0; 20]));
        let mut hex = String::with_capacity(64);
        for byte in mac.finalize().into_bytes() {
            hex.push(char::from(HEX[usize::from(byte >> 4)]));
            hex.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        CustomerId::from_opaque_text(&hex)
    }

    /// The key holder's way back: a table from the pseudonym of each of `ids` to the id.
    ///
    /// HMAC is one-way, so no pseudonym can be decoded, not even with the key. The key holder,
    /// who also holds the identities, recomputes the pseudonym of each one and looks pseudonyms
    /// up in the result. An id given twice is kept once.
    ///
    /// ```
    /// use customer_assets::{CustomerId, Pseudonymizer};
    /// let pseudonymizer = Pseudonymizer::new(&[7u8; 32])?;
    /// let alias = pseudonymizer.pseudonym(&CustomerId::new("acme-7")?);
    /// // ... `alias` comes back in a report made outside the trusted zone ...
    /// let back = pseudonymizer.reidentifier([CustomerId::new("acme-7")?, CustomerId::from(8u64)]);
    /// assert_eq!(back.identity(&alias), Some(&CustomerId::new("acme-7")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reidentifier(&self, ids: impl IntoIterator<Item = CustomerId>) -> Reidentifier {
        let identities = ids
            .into_iter()
            .map(|id| (self.pseudonym(&id), id))
            .collect();
        Reidentifier { identities }
    }
}

impl fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pseudonymizer")
            .field("algorithm", &"HMAC-SHA-256")
            .field("key", &"<redacted>")
            .finish()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Pseudonyms mapped back to the customer ids they stand for, built by the key holder with
/// [`Pseudonymizer::reidentifier`].
///
/// Its `Debug` shows only the number of identities, not the identities.
#[derive(Clone)]
pub struct Reidentifier {
    identities: FastMap<CustomerId, CustomerId>,
}

impl Reidentifier {
    /// The id whose pseudonym is `pseudonym`, or `None` when none of the ids given has it (an id
    /// the key holder did not list, or a pseudonym made under another key).
    pub fn identity(&self, pseudonym: &CustomerId) -> Option<&CustomerId> {
        self.identities.get(pseudonym)
    }

    /// The number of distinct identities.
    pub fn len(&self) -> usize {
        self.identities.len()
    }

    /// Whether no identity was given.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }
}

impl fmt::Debug for Reidentifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reidentifier")
            .field("identities", &self.identities.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    const KEY: [u8; 32] = [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31,
    ];

    fn id(text: &str) -> CustomerId {
        CustomerId::new(text).unwrap()
    }

    #[test]
    fn known_answers_match_an_independent_hmac_sha256() {
        // Computed with Python's standard library:
        //   hmac.new(bytes(range(32)), b"42", hashlib.sha256).hexdigest()
        // and checked with `printf 42 | openssl dgst -sha256 -mac HMAC -macopt hexkey:0001…1f`.
        let p = Pseudonymizer::new(&KEY).unwrap();
        assert_eq!(
            p.pseudonym(&CustomerId::from(42u64)).to_string(),
            "7df989924b2ebf8832c80802d1213a8a21a062a23877f0718effe501daee1703"
        );
        // hmac.new(bytes(range(32)), b"acme-7", hashlib.sha256).hexdigest()
        assert_eq!(
            p.pseudonym(&id("acme-7")).to_string(),
            "d053d63ee977b802c1352b245ebae2437b650aac1712abe8c40c1df8ef8b10b0"
        );
    }

    #[test]
    fn same_id_same_pseudonym_and_numeric_ids_hash_their_decimal_text() {
        let p = Pseudonymizer::new(&KEY).unwrap();
        assert_eq!(p.pseudonym(&id("acme-7")), p.pseudonym(&id(" acme-7 ")));
        for n in [0u64, 7, 10, 42, 1_000_000, u64::MAX] {
            let numeric = p.pseudonym(&CustomerId::from(n));
            assert_eq!(numeric, p.pseudonym(&id(&n.to_string())), "{n}");
            assert_eq!(numeric, p.pseudonym(&CustomerId::from(n)), "{n}");
        }
        // "042" is a text id, not 42: its own pseudonym.
        assert_ne!(
            p.pseudonym(&id("042")),
            p.pseudonym(&CustomerId::from(42u64))
        );
    }

    #[test]
    fn pseudonyms_are_64_lowercase_hex_digits_and_read_back_as_the_same_id() {
        let p = Pseudonymizer::new(&KEY).unwrap();
        for source in [id("x"), CustomerId::from(0u64), id("Ünïcode ✓")] {
            let alias = p.pseudonym(&source);
            let text = alias.to_string();
            assert_eq!(text.len(), 64);
            assert!(text.bytes().all(|b| HEX.contains(&b)), "{text}");
            // What a CSV writer and reader make of it is the same id.
            assert_eq!(id(&text), alias);
        }
    }

    #[test]
    fn different_keys_give_unrelated_pseudonyms() {
        let a = Pseudonymizer::new(&KEY).unwrap();
        let mut other = KEY;
        other[31] ^= 1;
        let b = Pseudonymizer::new(&other).unwrap();
        let ids: Vec<CustomerId> = (0..2_000u64)
            .map(CustomerId::from)
            .chain((0..2_000).map(|i| id(&format!("c-{i}"))))
            .collect();
        let under_a: HashSet<CustomerId> = ids.iter().map(|i| a.pseudonym(i)).collect();
        let under_b: HashSet<CustomerId> = ids.iter().map(|i| b.pseudonym(i)).collect();
        assert_eq!(under_a.len(), ids.len(), "no two ids share a pseudonym");
        assert_eq!(under_b.len(), ids.len());
        assert!(under_a.is_disjoint(&under_b));
    }

    #[test]
    fn short_keys_are_refused_and_long_ones_accepted() {
        assert_eq!(
            Pseudonymizer::new(&KEY[..31]).unwrap_err(),
            PseudonymError::KeyTooShort {
                length: 31,
                minimum: 32
            }
        );
        assert!(Pseudonymizer::new(&[]).is_err());
        assert!(Pseudonymizer::new(&[1; 200]).is_ok());
        let message = Pseudonymizer::new(b"short").unwrap_err().to_string();
        assert!(
            message.contains("5 bytes") && message.contains("32"),
            "{message}"
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = [0xabu8; 32];
        let shown = format!("{:?}", Pseudonymizer::new(&key).unwrap());
        assert!(shown.contains("redacted"), "{shown}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    }

    #[test]
    fn the_reidentifier_maps_pseudonyms_back_and_knows_nothing_else() {
        let p = Pseudonymizer::new(&KEY).unwrap();
        let ids = vec![CustomerId::from(1u64), id("acme-7"), id("acme-7"), id("z")];
        let back = p.reidentifier(ids.clone());
        assert_eq!(back.len(), 3);
        assert!(!back.is_empty());
        for source in &ids {
            assert_eq!(back.identity(&p.pseudonym(source)), Some(source));
        }
        // Plain ids, unlisted ids and pseudonyms under another key are unknown.
        assert_eq!(back.identity(&id("acme-7")), None);
        assert_eq!(back.identity(&p.pseudonym(&id("other"))), None);
        let other = Pseudonymizer::new(&[9; 32]).unwrap();
        assert_eq!(back.identity(&other.pseudonym(&id("acme-7"))), None);
        assert!(p.reidentifier([]).is_empty());
        assert_eq!(format!("{back:?}"), "Reidentifier { identities: 3 }");
    }
}
