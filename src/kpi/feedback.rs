//! Feedback KPIs: the Net Promoter Score and mean satisfaction.

use super::error::KpiError;
use super::period::Period;
use crate::records::Feedback;

/// Net Promoter Score from 0–10 recommend answers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Nps {
    /// Responses with a recommend score in the period.
    pub responses: usize,
    /// Answers 9–10.
    pub promoters: usize,
    /// Answers 7–8.
    pub passives: usize,
    /// Answers 0–6.
    pub detractors: usize,
    /// 100 × (promoters − detractors) / responses, in −100..=100.
    pub score: f64,
}

/// NPS over the feedback records dated in `period` that carry a recommend score (every response
/// counts, a customer answering twice counts twice).
///
/// # Errors
///
/// [`KpiError::Empty`] when no feedback in the period carries a recommend score.
pub fn net_promoter_score(feedback: &[Feedback], period: Period) -> Result<Nps, KpiError> {
    let (mut p, mut n, mut d) = (0usize, 0usize, 0usize);
    for score in feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .filter_map(Feedback::recommend)
    {
        match score {
            9..=10 => p += 1,
            7..=8 => n += 1,
            _ => d += 1,
        }
    }
    let responses = p + n + d;
    if responses == 0 {
        return Err(KpiError::Empty {
            what: "recommend responses",
            kpi: "NPS",
        });
    }
    Ok(Nps {
        responses,
        promoters: p,
        passives: n,
        detractors: d,
        score: 100.0 * (p as f64 - d as f64) / responses as f64,
    })
}

/// Mean satisfaction.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Satisfaction {
    /// Responses with a satisfaction score in the period.
    pub responses: usize,
    /// Mean of (score − min) / (max − min): 0 is the bottom of the scale, 1 the top.
    pub mean_normalized: f64,
    /// Mean raw score, when every response used the same scale.
    pub mean: Option<f64>,
}

/// Mean satisfaction over the feedback records dated in `period` that carry a satisfaction
/// score.
///
/// # Errors
///
/// [`KpiError::Empty`] when no feedback in the period carries a satisfaction score.
pub fn satisfaction(feedback: &[Feedback], period: Period) -> Result<Satisfaction, KpiError> {
    let scores: Vec<_> = feedback
        .iter()
        .filter(|f| period.contains(f.date()))
        .filter_map(Feedback::satisfaction)
        .collect();
    let Some(first) = scores.first() else {
        return Err(KpiError::Empty {
            what: "satisfaction responses",
            kpi: "mean satisfaction",
        });
    };
    let mean_normalized = mean(scores.iter().map(|s| normalized(s.score, s.min, s.max)));
    let same_scale = scores
        .iter()
        .all(|s| s.min == first.min && s.max == first.max);
    Ok(Satisfaction {
        responses: scores.len(),
        mean_normalized: mean_normalized.clamp(0.0, 1.0),
        mean: same_scale.then(|| mean(scores.iter().map(|s| s.score))),
    })
}

/// `(score − min) / (max − min)` for finite `min < max` holding `score`, in 0..=1 even when
/// `max − min` overflows (a scale spanning more than f64::MAX): then all three are halved first.
pub(super) fn normalized(score: f64, min: f64, max: f64) -> f64 {
    let (score, min, max) = if (max - min).is_finite() {
        (score, min, max)
    } else {
        (score / 2.0, min / 2.0, max / 2.0)
    };
    ((score - min) / (max - min)).clamp(0.0, 1.0)
}

/// The mean of finite values, finite whatever their size: the values are divided by a power of
/// two at least their largest magnitude (exact) before they are summed, and the mean of the
/// quotients (at most 1 in magnitude) is scaled back.
fn mean(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let largest = values.clone().fold(0.0f64, |m, v| m.max(v.abs()));
    let scale = if largest > 1.0 && largest.is_finite() {
        2f64.powi((largest.log2().ceil() as i32).min(f64::MAX_EXP - 1))
    } else {
        0.0
    };
    let (mut sum, mut n) = (0.0, 0usize);
    for v in values {
        sum += if scale > 0.0 { v / scale } else { v };
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let quotient = sum / n as f64;
    // A mean lies within the values' range; the bound only removes rounding past it.
    let mean = if scale > 0.0 {
        quotient * scale
    } else {
        quotient
    };
    mean.clamp(-largest, largest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::CustomerId;
    use chrono::NaiveDate;

    #[test]
    fn satisfaction_on_scales_spanning_the_whole_f64_range_is_finite() {
        let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let feedback: Vec<Feedback> = [f64::MAX, -f64::MAX, 0.0]
            .iter()
            .map(|&score| {
                Feedback::new(
                    CustomerId::from(1u64),
                    day,
                    Some((score, -f64::MAX, f64::MAX)),
                    None,
                )
                .unwrap()
            })
            .collect();
        let s = satisfaction(&feedback, Period::new(day, day).unwrap()).unwrap();
        assert!((s.mean_normalized - 0.5).abs() < 1e-12, "{s:?}");
        assert_eq!(s.mean, Some(0.0));
        let top = &feedback[..1];
        let s = satisfaction(top, Period::new(day, day).unwrap()).unwrap();
        assert_eq!((s.mean_normalized, s.mean), (1.0, Some(f64::MAX)));
    }
}
