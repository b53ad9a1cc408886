//! How long to wait before the next try, and waiting so that cancelling interrupts it.
use std::time::{Duration, Instant};

use virnucpro_core::CancelToken;

use super::{DownloadError, RetryPolicy};

/// The longest a cancelled wait goes on before noticing.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The wait after the try `failed_attempt` (1-based) failed: `first_delay` doubled for
/// each further try, at most `max_delay`. A server's `Retry-After` replaces it, also capped
/// at `max_delay`.
pub(super) fn delay(
    policy: &RetryPolicy,
    failed_attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(asked) = retry_after {
        return asked.min(policy.max_delay);
    }
    let doublings = failed_attempt.saturating_sub(1).min(31);
    policy
        .first_delay
        .checked_mul(1u32 << doublings)
        .unwrap_or(policy.max_delay)
        .min(policy.max_delay)
}

/// Sleeps `delay` in small steps; `Cancelled` as soon as `cancel` is set.
pub(super) fn sleep(delay: Duration, cancel: &CancelToken) -> Result<(), DownloadError> {
    let until = Instant::now() + delay;
    loop {
        if cancel.is_cancelled() {
            return Err(DownloadError::Cancelled);
        }
        let now = Instant::now();
        if now >= until {
            return Ok(());
        }
        std::thread::sleep((until - now).min(CANCEL_POLL));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 6,
            first_delay: Duration::from_secs(2),
            max_delay: Duration::from_secs(60),
            timeout: Duration::from_secs(30),
        }
    }

    #[test]
    fn doubles_from_the_first_delay_up_to_the_cap() {
        let p = policy();
        let secs: Vec<u64> = (1..=7).map(|a| delay(&p, a, None).as_secs()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(delay(&p, u32::MAX, None), p.max_delay);
    }

    #[test]
    fn retry_after_replaces_the_backoff_but_not_the_cap() {
        let p = policy();
        assert_eq!(delay(&p, 1, Some(Duration::from_secs(10))).as_secs(), 10);
        assert_eq!(delay(&p, 1, Some(Duration::from_secs(600))).as_secs(), 60);
    }

    #[test]
    fn a_cancelled_wait_ends_early() {
        let cancel = CancelToken::new();
        cancel.cancel();
        let started = Instant::now();
        let result = sleep(Duration::from_secs(5), &cancel);
        assert!(matches!(result, Err(DownloadError::Cancelled)));
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
