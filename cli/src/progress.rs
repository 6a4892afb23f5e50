//! Progress on stderr, never on stdout: which stage a long run is in, and for how long.
//!
//! By default a spinner appears on a terminal once the work has taken a second (short runs stay
//! quiet) and never when stderr is not a terminal, so a pipe or a log file gets nothing;
//! `--progress` shows it from the start, as plain lines (`clv: [0.4 s] fitting bg-nbd`) when
//! stderr is not a terminal; `--quiet` turns it off. One display per run, set up in `main`, which
//! the subcommands name their stages on.

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// When progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// On a terminal, after a second (the default).
    Auto,
    /// From the start; as lines when stderr is not a terminal (`--progress`).
    Always,
    /// Never (`--quiet`).
    Never,
}

enum Display {
    Spinner(ProgressBar),
    Lines(Instant),
}

static DISPLAY: OnceLock<Display> = OnceLock::new();

/// Sets up the run's progress display.
pub fn start(mode: Mode) {
    let terminal = std::io::stderr().is_terminal();
    let display = match (mode, terminal) {
        (Mode::Never, _) | (Mode::Auto, false) => return,
        (Mode::Always, false) => Display::Lines(Instant::now()),
        (_, true) => {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
                bar.set_style(style);
            }
            if mode == Mode::Always {
                show(&bar);
            } else {
                // Shown after a second, if the work is still going.
                let later = bar.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_secs(1));
                    if !later.is_finished() {
                        show(&later);
                    }
                });
            }
            Display::Spinner(bar)
        }
    };
    // `start` runs once, in `main`; a second call keeps the first display.
    let _ = DISPLAY.set(display);
}

fn show(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.enable_steady_tick(Duration::from_millis(120));
}

/// Names the stage the run is in.
pub fn stage(message: impl Into<String>) {
    match DISPLAY.get() {
        Some(Display::Spinner(bar)) => bar.set_message(message.into()),
        Some(Display::Lines(start)) => {
            eprintln!(
                "clv: [{:.1} s] {}",
                start.elapsed().as_secs_f64(),
                message.into()
            );
        }
        None => {}
    }
}

/// Clears the display (before the run's last words on stderr).
pub fn finish() {
    if let Some(Display::Spinner(bar)) = DISPLAY.get() {
        bar.finish_and_clear();
    }
}
