//! The one rule for every CPU thread count a user sets (`--threads` of prepare, merge,
//! embed and predict, and the desktop's merge threads): a whole number from 1 to the cores
//! of this machine. More threads than cores only add contention (a run with 9999 asked for
//! 9999 threads on 2 cores), so it is refused with both numbers rather than obeyed.
use std::num::NonZeroUsize;

/// The CPU cores this process may use (1 when the system cannot say).
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Why a thread count was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThreadsError {
    #[error(
        "must be a whole number from 1 to {cores} (the CPU cores of this machine), not {given:?}"
    )]
    NotWhole { given: String, cores: usize },
    #[error("must be between 1 and {cores}, the CPU cores of this machine (got {given})")]
    OutOfRange { given: usize, cores: usize },
}

/// `given` when it is from 1 to `cores`.
pub fn check_threads(given: usize, cores: usize) -> Result<usize, ThreadsError> {
    if (1..=cores.max(1)).contains(&given) {
        Ok(given)
    } else {
        Err(ThreadsError::OutOfRange { given, cores })
    }
}

/// A thread count typed by a user (a command-line value), checked against this machine.
pub fn parse_threads(text: &str) -> Result<usize, ThreadsError> {
    parse_whole(text).and_then(|given| check_threads(given, cores()))
}

/// A thread count typed by a user, only parsed: for a command whose settings are checked
/// together afterwards (predict lists every problem at once, the range among them).
pub fn parse_whole(text: &str) -> Result<usize, ThreadsError> {
    text.trim()
        .parse::<usize>()
        .map_err(|_| ThreadsError::NotWhole {
            given: text.to_owned(),
            cores: cores(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_one_to_the_cores() {
        assert_eq!(check_threads(1, 2), Ok(1));
        assert_eq!(check_threads(2, 2), Ok(2));
        for given in [0, 3, 9999] {
            assert_eq!(
                check_threads(given, 2),
                Err(ThreadsError::OutOfRange { given, cores: 2 })
            );
        }
        assert_eq!(
            check_threads(9999, 2).unwrap_err().to_string(),
            "must be between 1 and 2, the CPU cores of this machine (got 9999)"
        );
    }

    #[test]
    fn only_whole_numbers_parse() {
        assert_eq!(parse_threads("1"), Ok(1));
        assert_eq!(parse_threads(&cores().to_string()), Ok(cores()));
        for text in ["1.5", "", " ", "-1", "two", "1e3"] {
            assert!(
                matches!(parse_threads(text), Err(ThreadsError::NotWhole { .. })),
                "{text:?}"
            );
        }
        assert!(matches!(
            parse_threads(&(cores() + 1).to_string()),
            Err(ThreadsError::OutOfRange { .. })
        ));
        assert_eq!(parse_whole("9999"), Ok(9999));
        assert!(matches!(
            parse_whole("1.5"),
            Err(ThreadsError::NotWhole { .. })
        ));
    }
}
