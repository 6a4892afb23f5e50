//! Seeded simulation of customer bases (in progress).
