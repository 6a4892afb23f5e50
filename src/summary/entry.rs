//! The packed entries of the summary accumulator (one 16-byte entry per purchase period) and the
//! exact integer sums their amounts are added up in.

use rust_decimal::Decimal;

use crate::records::TransactionKind;

/// One purchase period's (or return moment's) records, packed into 16 bytes: the entry array holds
/// one per record of a large log, so its size is most of the accumulator's memory.
/// `word` holds, from the top, the scale of the amount (5 bits), its sign, the kind, a flag for
/// a wide amount, the record count (8 bits), and the amount's magnitude (48 bits: up to
/// 2.8 × 10¹² at cents), or, when the flag is set, the index of the magnitude in the
/// accumulator's table of wider ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Entry {
    /// The moment: a day number or microseconds, by the accumulator's grain.
    pub(super) key: i64,
    /// The packed amount, kind and count.
    pub(super) word: u64,
}

pub(super) const MAGNITUDE_MASK: u64 = (1 << 48) - 1;
pub(super) const COUNT_SHIFT: u32 = 48;
pub(super) const MAX_COUNT: u32 = 0xFF;
pub(super) const WIDE_BIT: u64 = 1 << 56;
pub(super) const RETURN_BIT: u64 = 1 << 57;
pub(super) const SIGN_BIT: u64 = 1 << 58;
pub(super) const SCALE_SHIFT: u32 = 59;

impl Entry {
    /// An entry of `count` records totalling `amount`; a magnitude too wide for the entry goes
    /// to the table `wide`.
    #[inline]
    pub(super) fn new(
        key: i64,
        amount: Decimal,
        count: u32,
        kind: TransactionKind,
        wide: &mut Vec<u128>,
    ) -> Entry {
        let magnitude = amount.mantissa().unsigned_abs();
        let mut word = (u64::from(count.min(MAX_COUNT)) << COUNT_SHIFT)
            | (u64::from(amount.scale()) << SCALE_SHIFT);
        if kind == TransactionKind::Return {
            word |= RETURN_BIT;
        }
        if amount.is_sign_negative() {
            word |= SIGN_BIT;
        }
        match u64::try_from(magnitude) {
            Ok(narrow) if narrow <= MAGNITUDE_MASK => word |= narrow,
            _ => {
                word |= WIDE_BIT | (wide.len() as u64 & MAGNITUDE_MASK);
                wide.push(magnitude);
            }
        }
        Entry { key, word }
    }
    #[inline]
    pub(super) fn magnitude(&self, wide: &[u128]) -> u128 {
        let low = self.word & MAGNITUDE_MASK;
        if self.word & WIDE_BIT == 0 {
            u128::from(low)
        } else {
            usize::try_from(low)
                .ok()
                .and_then(|i| wide.get(i))
                .copied()
                .unwrap_or(0)
        }
    }
    #[inline]
    pub(super) fn amount(&self, wide: &[u128]) -> Decimal {
        let m = self.magnitude(wide);
        Decimal::from_parts(
            m as u32,
            (m >> 32) as u32,
            (m >> 64) as u32,
            self.word & SIGN_BIT != 0,
            self.scale(),
        )
    }
    #[inline]
    pub(super) fn scale(&self) -> u32 {
        (self.word >> SCALE_SHIFT) as u32
    }
    #[inline]
    pub(super) fn count(&self) -> u32 {
        ((self.word >> COUNT_SHIFT) as u32) & MAX_COUNT
    }
    #[inline]
    pub(super) fn is_return(&self) -> bool {
        self.word & RETURN_BIT != 0
    }
    #[inline]
    pub(super) fn kind(&self) -> TransactionKind {
        if self.is_return() {
            TransactionKind::Return
        } else {
            TransactionKind::Purchase
        }
    }
    /// The order entries are folded in: by moment, purchases before returns.
    #[inline]
    pub(super) fn order(&self) -> (i64, bool) {
        (self.key, self.is_return())
    }
    /// Adds `other`'s records to this entry's, if they are of the same moment, kind, sign and
    /// scale, and the count and sum still fit in place: then they add exactly.
    #[inline]
    pub(super) fn absorb(&mut self, other: &Entry) -> bool {
        let same = WIDE_BIT | RETURN_BIT | SIGN_BIT | (u64::MAX << SCALE_SHIFT);
        if self.key != other.key
            || self.word & same != other.word & same
            || self.word & WIDE_BIT != 0
        {
            return false;
        }
        let count = self.count() + other.count();
        let sum = (self.word & MAGNITUDE_MASK) + (other.word & MAGNITUDE_MASK);
        if count > MAX_COUNT || sum > MAGNITUDE_MASK {
            return false;
        }
        self.word = (self.word & same) | (u64::from(count) << COUNT_SHIFT) | sum;
        true
    }
}

/// An exact sum of decimals kept as an `i128` mantissa at one scale: adding amounts of equal
/// scale (the usual case: cents) is an integer addition instead of a decimal one.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(super) struct Money {
    pub(super) mantissa: i128,
    pub(super) scale: u32,
}

impl Money {
    /// An entry's amount.
    #[inline]
    pub(super) fn of(e: &Entry, wide: &[u128]) -> Money {
        // Magnitudes have at most 96 bits: the cast is exact.
        let magnitude = e.magnitude(wide) as i128;
        Money {
            mantissa: if e.word & SIGN_BIT != 0 {
                -magnitude
            } else {
                magnitude
            },
            scale: e.scale(),
        }
    }

    #[inline(always)]
    pub(super) fn add(&mut self, other: Money) -> Option<()> {
        // Amounts of one scale (the usual case) add as integers, as does anything to zero at a
        // smaller scale (a fresh sum); anything else is rescaled.
        if other.scale == self.scale || (self.mantissa == 0 && self.scale < other.scale) {
            self.mantissa = self.mantissa.checked_add(other.mantissa)?;
            self.scale = other.scale;
            return Some(());
        }
        self.add_rescaled(other)
    }

    #[cold]
    #[inline(never)]
    fn add_rescaled(&mut self, other: Money) -> Option<()> {
        let mut m = other.mantissa;
        if other.scale > self.scale {
            self.mantissa = self
                .mantissa
                .checked_mul(10i128.checked_pow(other.scale - self.scale)?)?;
            self.scale = other.scale;
        } else if other.scale < self.scale {
            m = m.checked_mul(10i128.checked_pow(self.scale - other.scale)?)?;
        }
        self.mantissa = self.mantissa.checked_add(m)?;
        Some(())
    }

    #[inline]
    pub(super) fn sub(&mut self, other: Money) -> Option<()> {
        self.add(Money {
            mantissa: other.mantissa.checked_neg()?,
            scale: other.scale,
        })
    }

    pub(super) fn decimal(self) -> Option<Decimal> {
        Decimal::try_from_i128_with_scale(self.mantissa, self.scale).ok()
    }
}
