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
    let n = scores.len() as f64;
    let mean_normalized = scores
        .iter()
        .map(|s| (s.score - s.min) / (s.max - s.min))
        .sum::<f64>()
        / n;
    let same_scale = scores
        .iter()
        .all(|s| s.min == first.min && s.max == first.max);
    Ok(Satisfaction {
        responses: scores.len(),
        mean_normalized,
        mean: same_scale.then(|| scores.iter().map(|s| s.score).sum::<f64>() / n),
    })
}
