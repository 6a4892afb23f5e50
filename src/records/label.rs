//! The one check of short text labels (consent purposes, update sources and values, product
//! categories and SKUs): each caller words the problem for its own record.

/// What makes a label, trimmed as it will be stored, unfit.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum LabelProblem {
    /// Empty (or only white space before trimming).
    Blank,
    /// Holds a control character (a line break, a NUL, an escape).
    Control,
    /// Longer than the label's limit, in characters.
    TooLong,
}

/// Why `text` cannot be a label of at most `max_chars` characters, if it cannot.
pub(crate) fn label_problem(text: &str, max_chars: usize) -> Option<LabelProblem> {
    if text.is_empty() {
        Some(LabelProblem::Blank)
    } else if text.chars().any(char::is_control) {
        Some(LabelProblem::Control)
    } else if text.chars().count() > max_chars {
        Some(LabelProblem::TooLong)
    } else {
        None
    }
}

/// [`label_problem`] in words, for errors that carry a reason.
pub(crate) fn label_problem_reason(text: &str, max_chars: usize) -> Option<&'static str> {
    label_problem(text, max_chars).map(|problem| match problem {
        LabelProblem::Blank => "it is blank",
        LabelProblem::Control => "it holds a control character",
        LabelProblem::TooLong => "it is too long",
    })
}
